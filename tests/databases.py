"""The metadata databases tests run on: SQLite, and the MariaDB and PostgreSQL servers.

A test marked `databases` (or a module with `pytestmark = pytest.mark.databases`) runs once
per database named in FILEDOCK_TEST_DATABASES (default: all three); other tests run on
SQLite only. Every server run gets a database of its own, created empty before the test
and dropped after it, so tests never see each other's rows.

A server that cannot be reached skips its runs with the reason, except in CI (CI=true),
where it fails them: a green CI run must have really run on every database.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cache

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from filedock.db.engine import async_url

SERVERS = {
    "mariadb": os.environ.get("FILEDOCK_TEST_MARIADB_URL", "mysql://root@127.0.0.1:3306"),
    "postgresql": os.environ.get(
        "FILEDOCK_TEST_POSTGRESQL_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
    ),
}
KINDS = ("sqlite", *SERVERS)
SELECTED = [
    kind.strip()
    for kind in os.environ.get("FILEDOCK_TEST_DATABASES", ",".join(KINDS)).split(",")
    if kind.strip()
]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(what: str, reason: str) -> None:
    """Skip outside CI, fail in CI: a missing service must never pass silently there."""
    message = f"{what} is unreachable: {reason}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: every service must be up)")
    pytest.skip(message)


def _admin(server_url: str, statement: str) -> None:
    """Run one statement outside any transaction, on a thread with its own event loop
    (the test's loop belongs to pytest-asyncio and must not be touched)."""

    async def run() -> None:
        engine = create_async_engine(
            async_url(server_url), isolation_level="AUTOCOMMIT", poolclass=NullPool
        )
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


@cache
def _reachable(kind: str) -> str | None:
    """None when the server answers, else why not (asked once per test session)."""
    try:
        _admin(SERVERS[kind], "SELECT 1")
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@contextmanager
def fresh_database(kind: str) -> Iterator[str]:
    """A new, empty database on server `kind`; yields its URL and drops it afterwards."""
    reason = _reachable(kind)
    if reason:
        unavailable(f"{kind} at {SERVERS[kind]}", reason)
    name = f"fdt_{uuid.uuid4().hex[:16]}"
    server = SERVERS[kind]
    _admin(server, f"CREATE DATABASE {name}")
    if kind == "postgresql":  # tests need no durability; WAL flushes crawl on a busy disk
        _admin(server, f"ALTER DATABASE {name} SET synchronous_commit TO off")
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        force = " WITH (FORCE)" if kind == "postgresql" else ""
        _admin(server, f"DROP DATABASE IF EXISTS {name}{force}")


def pytest_configure(config: pytest.Config) -> None:
    unknown = set(SELECTED) - set(KINDS)
    if unknown:
        raise pytest.UsageError(f"FILEDOCK_TEST_DATABASES: unknown {sorted(unknown)}")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_kind" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        "databases"
    ):
        metafunc.parametrize("database_kind", SELECTED)


@pytest.fixture
def database_kind() -> str:
    """SQLite, unless the test is marked `databases` (then parametrised)."""
    return "sqlite"


@pytest.fixture
def database_url(database_kind: str) -> Iterator[str]:
    """Empty for SQLite (Settings puts it in the data folder), else a fresh server database."""
    if database_kind == "sqlite":
        yield ""
        return
    with fresh_database(database_kind) as url:
        yield url
