"""`filedock keys`: API keys made, listed and revoked by the operator, straight in SQL.

These commands work on any supported database while servers run (FILEDOCK_DATABASE_URL),
since a key is one row and servers look keys up on every request: a new key is usable,
and a revoked one refused, at once, on every replica.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from filedock.core.keys import ApiKey, KeyService
from filedock.errors import FiledockError
from filedock.settings import Settings
from filedock.units import parse_duration

keys_app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
T = TypeVar("T")


def parse_expiry(text: str) -> timedelta:
    """`90d`, `12h`, `30m`, `2w` or plain seconds (filedock.units)."""
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r}: {exc}") from None
    if not isinstance(seconds, int | float) or seconds <= 0:
        raise typer.BadParameter(f"{text!r}: a key must live longer than nothing")
    return timedelta(seconds=seconds)


def with_keys(action: Callable[[KeyService], Awaitable[T]], settings: Settings | None = None) -> T:
    """Run `action` on the configured database's keys (migrated first); errors in one line."""
    from filedock.db import migrate
    from filedock.db.engine import create_engine
    from filedock.db.keys import KeyStore

    settings = settings or Settings()
    if str(settings.data_dir) in settings.database_url:  # the embedded SQLite database
        settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def run() -> T:
        await asyncio.to_thread(migrate.upgrade, settings.database_url)
        engine = create_engine(settings.database_url)
        try:
            return await action(KeyService(KeyStore(engine)))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except FiledockError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc


def key_json(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "tenant": key.tenant,
        "user": key.user,
        "scopes": key.scopes,
        "name": key.name,
        "created_at": key.created_at.isoformat(),
        "expires_at": key.expires_at.isoformat() if key.expires_at else None,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
    }


@keys_app.command("create")
def create(
    tenant: Annotated[str, typer.Option(help="The tenant the key acts in")],
    user: Annotated[str, typer.Option(help="The user the key acts as")],
    scopes: Annotated[str, typer.Option(help="read, write, admin (comma-separated)")] = "read",
    name: Annotated[str | None, typer.Option(help="What the key is for")] = None,
    expires: Annotated[str | None, typer.Option(help="Lifetime: 90d, 12h, 30m")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object")] = False,
) -> None:
    """Create a key and print it once: only its hash is kept."""
    lifetime = parse_expiry(expires) if expires else None
    key, secret = with_keys(
        lambda keys: keys.create(
            tenant=tenant, user=user, scopes=scopes, name=name, expires_in=lifetime
        )
    )
    if as_json:
        typer.echo(json.dumps({**key_json(key), "key": secret}))
        return
    typer.echo(secret)
    typer.echo(
        f"key {key.id} for {key.user}@{key.tenant} ({key.scopes}); it is shown only now.",
        err=True,
    )


@keys_app.command("list")
def list_keys(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's keys")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array")] = False,
) -> None:
    """The keys (never their secrets)."""
    found = with_keys(lambda keys: keys.listed(tenant))
    if as_json:
        typer.echo(json.dumps([key_json(k) for k in found]))
        return
    table = Table("id", "tenant", "user", "scopes", "name", "created", "expires", "revoked")
    for key in found:
        row = key_json(key)
        table.add_row(
            *(str(row[c] or "") for c in ("id", "tenant", "user", "scopes", "name")),
            *(str(row[c] or "")[:19] for c in ("created_at", "expires_at", "revoked_at")),
        )
    Console().print(table)


@keys_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key's id (not its secret)")]) -> None:
    """Revoke a key: every server refuses it from the next request on."""
    with_keys(lambda keys: keys.revoke(key_id, None))
    typer.echo(f"revoked {key_id}")
