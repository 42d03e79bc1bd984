"""Alembic on every database, each run on a fresh one: upgrade, the schema equals the
tables the code declares, downgrade to nothing, upgrade again; processes starting
together migrate one after the other."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from filedock.db import migrate
from filedock.db.engine import create_engine
from filedock.db.tables import metadata

pytestmark = pytest.mark.databases


@pytest.fixture
def url(database_url: str, tmp_path: Path) -> str:
    return database_url or f"sqlite:///{tmp_path / 'migrations.db'}"


def inspect_database(url: str) -> tuple[set[str], list[object]]:
    """The tables present, and how the schema differs from db/tables.py."""

    def look(connection: Connection) -> tuple[set[str], list[object]]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return set(inspect(connection).get_table_names()), compare_metadata(context, metadata)

    async def run() -> tuple[set[str], list[object]]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(look)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_upgrade_downgrade_upgrade(url: str) -> None:
    migrate.upgrade(url)
    tables, differences = inspect_database(url)
    assert set(metadata.tables) <= tables
    assert differences == []

    migrate.downgrade(url, "base")
    tables, _ = inspect_database(url)
    assert tables <= {"alembic_version"}

    migrate.upgrade(url)
    assert inspect_database(url)[1] == []


def test_processes_starting_together_migrate_in_turn(url: str, tmp_path: Path) -> None:
    env = {**os.environ, "FILEDOCK_DATABASE_URL": url, "FILEDOCK_DATA_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "filedock", "migrate"]
    processes = [subprocess.Popen(command, env=env, stderr=subprocess.PIPE) for _ in range(3)]
    for process in processes:
        _, errors = process.communicate(timeout=120)
        assert process.returncode == 0, errors.decode()
    assert inspect_database(url)[1] == []
