"""Async engine creation for SQLite, MySQL/MariaDB and PostgreSQL.

SQLite gets WAL and a busy timeout so parallel chunks can commit. The servers get a
pre-pinged pool (a restarted database is reconnected to by itself) and, on MySQL, READ
COMMITTED, so conditional updates behave as on PostgreSQL instead of taking the gap locks
that make concurrent inserts deadlock. A lost or refused connection becomes
DATABASE_UNAVAILABLE (503) from the error table, never a bare driver error.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Dialect, ExceptionContext, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from filedock.errors import Code, FiledockError

CONNECT_TIMEOUT = 10  # seconds; an unreachable server fails a request instead of hanging it

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "mysql": "mysql+asyncmy",
    "mariadb": "mysql+asyncmy",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}

_TIMEOUT_ARGUMENT = {"mysql+asyncmy": "connect_timeout", "postgresql+asyncpg": "timeout"}


def async_url(url: str) -> str:
    """Accept plain URLs (mysql://, postgresql://) and give them an async driver."""
    parsed = make_url(url)
    if "+" not in parsed.drivername:
        parsed = parsed.set(drivername=_ASYNC_DRIVERS.get(parsed.drivername, parsed.drivername))
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _down(reason: BaseException) -> FiledockError:
    return FiledockError(
        Code.DATABASE_UNAVAILABLE,
        f"The database cannot be reached ({type(reason).__name__}: {reason}); retry later.",
    )


def _unavailable(context: ExceptionContext) -> FiledockError | None:
    """Driver errors meaning "cannot connect" or "connection lost" become the 503.

    Pre-ping failures are left alone: the pool handles them by reconnecting.
    """
    if context.is_pre_ping or not (context.is_disconnect or context.connection is None):
        return None
    return _down(context.original_exception)


def _connect(dialect: Dialect, _record: Any, cargs: Any, cparams: Any) -> Any:
    """Connect; a refused or timed-out connection becomes the 503 too (asyncpg raises a
    plain OSError there, which SQLAlchemy hands on untranslated)."""
    try:
        return dialect.connect(*cargs, **cparams)
    except (OSError, TimeoutError) as exc:
        raise _down(exc) from exc


def create_engine(url: str) -> AsyncEngine:
    url = async_url(url)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    options: dict[str, Any] = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}
    driver = make_url(url).drivername
    if driver.startswith("mysql"):
        options.update(isolation_level="READ COMMITTED", pool_recycle=3600)
    if driver in _TIMEOUT_ARGUMENT:
        options["connect_args"] = {_TIMEOUT_ARGUMENT[driver]: CONNECT_TIMEOUT}
    engine = create_async_engine(url, **options)
    event.listen(engine.sync_engine, "handle_error", _unavailable)
    event.listen(engine.sync_engine, "do_connect", _connect)
    return engine
