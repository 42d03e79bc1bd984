"""Alembic environment: runs migrations over the same async engine the service uses."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from filedock.db.engine import create_engine
from filedock.db.tables import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        # SQLite's DDL is transactional; saying so keeps all steps in one transaction, so
        # the write lock taken by _serialise is held until the last one is done.
        transactional_ddl=connection.dialect.name in ("sqlite", "postgresql"),
        compare_type=True,
    )
    with context.begin_transaction():
        _serialise(connection)
        context.run_migrations()


def _serialise(connection: Connection) -> None:
    """Processes starting together migrate one after the other, not into each other.

    PostgreSQL's lock ends with the transaction, MySQL's with the connection; SQLite's
    write lock, taken at once, opens the transaction its driver would otherwise only
    open for the first INSERT.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(7331)"))
    elif connection.dialect.name == "mysql":
        connection.execute(text("SELECT GET_LOCK('filedock_migrations', 300)"))
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


async def _run_async() -> None:
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


asyncio.run(_run_async())
