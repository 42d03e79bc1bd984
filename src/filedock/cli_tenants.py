"""`filedock tenants`: set a tenant's quota, list tenants, show what they use.

These are operator commands on the database itself (FILEDOCK_DATABASE_URL, any supported
one, while servers run): they open only the database, never the storage or the data
folder, and a limit set here holds for the next request of every replica.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from filedock.core.quotas import Limits, Usage, format_size, parse_size, parse_types
from filedock.settings import Settings

if TYPE_CHECKING:  # the database modules load when a command runs, not with the CLI
    from filedock.db.tenants import TenantStore

app = typer.Typer(
    help="Tenants: quotas and usage (on the database, while servers run).", no_args_is_help=True
)
T = TypeVar("T")
MAX_TENANT = 64  # the width of the tenant columns
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
NONE_HINT = "'none' removes the limit"


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory ones)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


@asynccontextmanager
async def _store() -> AsyncIterator[TenantStore]:
    from filedock.db.engine import create_engine
    from filedock.db.tenants import TenantStore

    url = Settings().database_url
    sqlite = _sqlite_file(url)
    if sqlite is not None and not sqlite.is_file():  # connecting would create it
        raise _Stop(
            f"no database at {sqlite}: run `filedock migrate`, or set FILEDOCK_DATABASE_URL"
        )
    engine = create_engine(url)
    try:
        yield TenantStore(engine)
    finally:
        await engine.dispose()


class _Stop(Exception):
    """Ends the command with a one-line message."""


def _run(work: Callable[[TenantStore], Awaitable[T]]) -> T:
    """Run `work` on the tenant store; database trouble ends with one line, not a trace."""
    from sqlalchemy.exc import SQLAlchemyError

    from filedock.errors import FiledockError

    async def run() -> T:
        async with _store() as store:
            return await work(store)

    try:
        return asyncio.run(run())
    except (_Stop, FiledockError, SQLAlchemyError) as exc:
        reason = str(exc).splitlines()[0]
        if isinstance(exc, SQLAlchemyError):
            reason += " (is the database migrated? `filedock migrate`)"
        Console(stderr=True).print(f"[red]error:[/red] {reason}", highlight=False, markup=True)
        raise typer.Exit(1) from exc


def _tenant(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_TENANT or any(c.isspace() for c in name):
        raise typer.BadParameter(f"1 to {MAX_TENANT} characters, no spaces", param_hint="TENANT")
    return name


def _parsed(value: str | None, hint: str, parse: Callable[[str], Any]) -> dict[str, Any]:
    if value is None:
        return {}
    try:
        return {hint.strip("-").replace("-", "_"): parse(value)}
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=hint) from exc


def _count(text: str) -> int | None:
    if text.strip().lower() == "none":
        return None
    if not text.strip().isdigit():
        raise ValueError(f"not a whole number: {text!r}")
    return int(text)


@app.command("set-quota")
def set_quota(
    tenant: Annotated[str, typer.Argument(help="The tenant, as in its API keys and tokens.")],
    max_bytes: Annotated[
        str | None, typer.Option(help=f"Counted bytes: 500G, 500GiB, 20M, 1048576; {NONE_HINT}.")
    ] = None,
    max_files: Annotated[
        str | None, typer.Option(help=f"Files plus unfinished uploads; {NONE_HINT}.")
    ] = None,
    max_file_size: Annotated[
        str | None, typer.Option(help=f"Bytes one file may have; {NONE_HINT}.")
    ] = None,
    allowed_types: Annotated[
        str | None, typer.Option(help=f"Content types, e.g. 'image/*,video/mp4'; {NONE_HINT}.")
    ] = None,
    clear: Annotated[
        bool, typer.Option(help="Remove every limit (then apply the options given).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Set a tenant's limits; an option left out keeps its current value."""
    name = _tenant(tenant)
    changes = {
        **_parsed(max_bytes, "--max-bytes", parse_size),
        **_parsed(max_files, "--max-files", _count),
        **_parsed(max_file_size, "--max-file-size", parse_size),
        **_parsed(allowed_types, "--allowed-types", parse_types),
    }
    if not changes and not clear:
        raise typer.BadParameter("give at least one limit to set, or --clear")

    async def work(store: TenantStore) -> Limits:
        limits = (await store.limits(name)).changed(clear, **changes)
        await store.set_limits(name, limits)
        return limits

    limits = _run(work)
    if as_json:
        typer.echo(json.dumps({"tenant": name, "limits": limits.as_json()}, indent=2))
        return
    table = _table("limits of " + name, ["max bytes", "max files", "max file size", "types"])
    table.add_row(*_limit_cells(limits))
    Console().print(table)


@app.command("list")
def list_tenants(as_json: JsonOption = False) -> None:
    """Every tenant with limits, files, uploads or keys, with its limits and usage."""
    rows = _run(_reports(None))
    if as_json:
        typer.echo(json.dumps([u.report(n, lim) for n, u, lim in rows], indent=2))
        return
    columns = ["tenant", "max bytes", "max files", "max file size", "types", "used", "files"]
    table = _table("tenants", columns)
    for name, usage, limits in rows:
        table.add_row(name, *_limit_cells(limits), format_size(usage.bytes_used), str(usage.files))
    Console().print(table)


@app.command("usage")
def tenant_usage(
    tenant: Annotated[str | None, typer.Argument(help="One tenant; default: all.")] = None,
    as_json: JsonOption = False,
) -> None:
    """What tenants use against their limits (staged bytes of unfinished uploads count)."""
    rows = _run(_reports(None if tenant is None else _tenant(tenant)))
    if as_json:
        reports = [u.report(n, lim) for n, u, lim in rows]
        typer.echo(json.dumps(reports[0] if tenant is not None else reports, indent=2))
        return
    table = _table("usage", ["tenant", "used", "of", "files", "of", "uploads", "staged"])
    for name, usage, limits in rows:
        table.add_row(
            name,
            format_size(usage.bytes_used),
            format_size(limits.max_bytes),
            str(usage.files),
            "-" if limits.max_files is None else str(limits.max_files),
            str(usage.uploads),
            format_size(usage.staged_bytes),
        )
    Console().print(table)


def _reports(
    tenant: str | None,
) -> Callable[[TenantStore], Awaitable[list[tuple[str, Usage, Limits]]]]:
    async def work(store: TenantStore) -> list[tuple[str, Usage, Limits]]:
        names = [tenant] if tenant is not None else await store.names()
        return [(n, await store.usage(n), await store.limits(n)) for n in names]

    return work


def _table(title: str, columns: list[str]) -> Table:
    table = Table(title=title)
    for column in columns:
        left = column in ("tenant", "types")
        table.add_column(column, justify="left" if left else "right", overflow="fold")
    return table


def _limit_cells(limits: Limits) -> list[str]:
    return [
        format_size(limits.max_bytes),
        "-" if limits.max_files is None else str(limits.max_files),
        format_size(limits.max_file_size),
        "any" if limits.allowed_types is None else ",".join(limits.allowed_types),
    ]
