"""The filedock command: serve, migrate, cleanup, and a client (upload, download)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from filedock.settings import Settings

app = typer.Typer(help="filedock: resumable uploads of large files.", no_args_is_help=True)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Overrides FILEDOCK_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="Overrides FILEDOCK_PORT")] = None,
) -> None:
    """Run the HTTP server (migrations are applied at start)."""
    import uvicorn

    from filedock.app import create_app
    from filedock.observability import configure_logging

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = Settings(**overrides)  # type: ignore[arg-type]
    configure_logging(settings.log_level, settings.log_json)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        timeout_graceful_shutdown=10,
    )


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "head",
    down: Annotated[bool, typer.Option(help="Downgrade to the revision instead")] = False,
) -> None:
    """Upgrade (or downgrade) the database schema."""
    from filedock.db import migrate as migrations

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if down:
        migrations.downgrade(settings.database_url, revision)
    else:
        migrations.upgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}")


@app.command()
def cleanup() -> None:
    """Expire uploads idle past their time-to-live and free their bytes, now."""
    from filedock.wiring import build_services

    async def run() -> int:
        services = await build_services(Settings())
        try:
            return await services.uploads.expire_idle()
        finally:
            await services.close()

    typer.echo(f"expired {asyncio.run(run())} upload(s)")


def main() -> None:
    app()


__all__ = ["Path", "app", "main"]
