"""The operator commands: migrate up and down, cleanup of expired uploads."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from filedock.cli import app
from filedock.core.principal import LOCAL
from filedock.settings import Settings
from filedock.wiring import build_services


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("FILEDOCK_DATA_DIR", str(data))
    monkeypatch.chdir(tmp_path)  # no stray .env
    return data


def _tables(data: Path) -> set[str]:
    with sqlite3.connect(data / "filedock.db") as db:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    return {r[0] for r in rows}


def test_migrate_up_and_down(env: Path) -> None:
    env.mkdir()  # only `serve` creates the data folder
    runner = CliRunner()
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    assert {"uploads", "parts", "files", "jobs"} <= _tables(env)
    down = runner.invoke(app, ["migrate", "base", "--down"])
    assert down.exit_code == 0, down.output
    assert _tables(env) <= {"alembic_version"}
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    assert "uploads" in _tables(env)


def test_cleanup_frees_expired_uploads(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FILEDOCK_UPLOAD_TTL_SECONDS", "1")

    async def stage() -> str:
        services = await build_services(Settings())
        try:
            upload = await services.uploads.create(LOCAL, filename="x", size=10)

            async def body():  # type: ignore[no-untyped-def]
                yield b"0123456789"

            await services.uploads.write_chunk(LOCAL, upload.id, 0, body())
            return upload.id
        finally:
            await services.close()

    asyncio.run(stage())
    staging = env / "storage" / "staging"
    assert len(list(staging.iterdir())) == 1
    time.sleep(1.1)
    result = CliRunner().invoke(app, ["cleanup"])
    assert result.exit_code == 0, result.output
    assert "expired 1 upload" in result.output
    assert list(staging.iterdir()) == []
