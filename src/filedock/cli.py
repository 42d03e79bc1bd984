"""The filedock command: serve, migrate, cleanup, and a client (upload, download)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from filedock import cli_tenants
from filedock.cli_keys import keys_app, with_keys
from filedock.settings import Settings
from filedock.units import size_option

app = typer.Typer(help="filedock: resumable uploads of large files.", no_args_is_help=True)


def _settings(*, creates_data_dir: bool = False, **overrides: object) -> Settings:
    """The settings, or exit 2 with one line per invalid one (no traceback).

    Only `serve` creates the data folder: other commands refuse to run where it is
    missing but needed, instead of leaving an empty ./data in whatever folder they ran."""
    from dotenv import dotenv_values  # what pydantic-settings reads .env with

    from filedock.settings import SettingsError, load, unknown_variables
    from filedock.storage.registry import require_library

    dotenv = {k: v or "" for k, v in dotenv_values(".env").items()}
    for warning in unknown_variables({**dotenv, **os.environ}):
        typer.echo(f"warning: {warning}", err=True)
    try:
        settings = load(**{k: v for k, v in overrides.items() if v is not None})
        require_library(settings.storage_url)
    except SettingsError as exc:
        for line in str(exc).splitlines():
            typer.echo(f"error: {line}", err=True)
        raise typer.Exit(2) from None
    uses = settings.data_dir_uses()
    if not creates_data_dir and uses and not settings.data_dir.is_dir():
        typer.echo(
            f"error: FILEDOCK_DATA_DIR={settings.data_dir}: expected an existing folder, "
            f"for {' and '.join(uses)}; `filedock serve` creates it",
            err=True,
        )
        raise typer.Exit(2)
    return settings


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Overrides FILEDOCK_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="Overrides FILEDOCK_PORT")] = None,
) -> None:
    """Run the HTTP server (migrations are applied at start); SIGTERM drains it."""
    from filedock import shutdown
    from filedock.app import create_app
    from filedock.core.authn import is_loopback
    from filedock.observability import configure_logging, log_banner
    from filedock.wiring import authenticator

    settings = _settings(creates_data_dir=True, host=host, port=port)
    _reachable(settings)
    refusal = None
    if settings.auth == "auto" and not is_loopback(settings.host):  # only then can it refuse
        refusal = with_keys(lambda keys: authenticator(settings, keys).refusal(), settings)
    if refusal:
        typer.echo(f"error: {refusal}", err=True)
        raise typer.Exit(2)
    if settings.auth == "none":
        typer.echo(
            "warning: FILEDOCK_AUTH=none: anyone who reaches the port has every right", err=True
        )
    configure_logging(settings.log_level, settings.log_json)
    log_banner(settings, f"http://{settings.host}:{settings.port}")
    application = create_app(settings)
    shutdown.serve(application, application.state.drain, settings.host, settings.port)


def _reachable(settings: Settings) -> None:
    """Reach the storage and the database before serving: a wrong bucket, host or password
    ends `serve` with one line (exit 2), not with the traceback of a failed start-up."""
    from filedock.db.engine import create_engine
    from filedock.errors import FiledockError
    from filedock.storage.registry import open_storage

    async def check() -> None:
        if settings.data_dir_uses():
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        storage = open_storage(settings).backend
        try:
            await storage.check()
        finally:
            await storage.close()
        engine = create_engine(settings.database_url)
        try:
            async with engine.connect():
                pass
        finally:
            await engine.dispose()

    try:
        asyncio.run(check())
    except FiledockError as exc:
        typer.echo(f"error: cannot start: {exc.message}", err=True)
        raise typer.Exit(2) from None
    except ValueError as exc:  # a storage URL the backend cannot read (its own message)
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(min=1, help="Jobs this process runs at once")] = 4,
    metrics_port: Annotated[
        int, typer.Option(help="Serve Prometheus metrics of the jobs on this port (0: off)")
    ] = 0,
) -> None:
    """Run a Celery worker executing filedock's jobs (needs FILEDOCK_BROKER_URL)."""
    from filedock.jobs.celery import run_worker
    from filedock.observability import configure_logging
    from filedock.wiring import build_services

    settings = _settings()
    if not settings.broker_url:
        typer.echo("FILEDOCK_BROKER_URL is not set: jobs run inside `filedock serve`.", err=True)
        raise typer.Exit(2)
    configure_logging(settings.log_level, settings.log_json)
    if metrics_port:
        from prometheus_client import start_http_server

        start_http_server(metrics_port)
    run_worker(settings, lambda: build_services(settings), concurrency)


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "head",
    down: Annotated[bool, typer.Option(help="Downgrade to the revision instead")] = False,
) -> None:
    """Upgrade (or downgrade) the database schema."""
    from filedock.db import migrate as migrations

    settings = _settings()
    if down:
        migrations.downgrade(settings.database_url, revision)
    else:
        migrations.upgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}")


@app.command()
def cleanup() -> None:
    """Expire uploads idle past their time-to-live and free their bytes, now."""
    from filedock.wiring import build_services

    settings = _settings()

    async def run() -> int:
        services = await build_services(settings)
        try:
            return await services.uploads.expire_idle()
        finally:
            await services.close()

    typer.echo(f"expired {asyncio.run(run())} upload(s)")


DEFAULT_SERVER = "http://127.0.0.1:8000"
ServerOption = Annotated[
    str, typer.Option(envvar="FILEDOCK_SERVER", help="The filedock server to talk to.")
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        envvar="FILEDOCK_TOKEN",
        help="An API key or JWT, sent as Authorization: Bearer.",
        show_default=False,
    ),
]


@contextmanager
def _reported_errors(server: str) -> Iterator[None]:
    """Client failures end the command with a one-line message, not a traceback."""
    import httpx
    from rich.console import Console

    from filedock.client import ClientError

    try:
        yield
    except (ClientError, httpx.TransportError) as exc:
        reason = f"cannot reach {server}: {exc}" if isinstance(exc, httpx.TransportError) else exc
        Console(stderr=True).print(f"[red]error:[/red] {reason}", highlight=False)
        raise typer.Exit(1) from exc


def _metadata(value: str | None) -> dict[str, Any]:
    try:
        parsed = json.loads(value) if value else {}
    except ValueError as exc:
        raise typer.BadParameter(f"not JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise typer.BadParameter("must be a JSON object")
    return parsed


@app.command()
def upload(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    server: ServerOption = DEFAULT_SERVER,
    chunk_size: Annotated[
        int | None,
        typer.Option(
            parser=size_option, help="Per chunk: 8M, 8MiB or bytes (the server may clamp it)."
        ),
    ] = None,
    parallel: Annotated[int, typer.Option(min=1, max=64, help="Chunks sent at once.")] = 4,
    content_type: Annotated[
        str | None, typer.Option(help="Default: guessed from the file name.")
    ] = None,
    metadata: Annotated[str | None, typer.Option(help="A JSON object kept with the file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    token: TokenOption = None,
    to: Annotated[
        str | None, typer.Option("--to", help="The path it takes, e.g. /videos/a.mp4")
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a file already at --to.")] = False,
    rename: Annotated[bool, typer.Option(help="Keep both: 'name (1).ext'.")] = False,
) -> None:
    """Upload FILE in parallel chunks; run the same command again to resume after a stop.

    With --to, a file already there with the same bytes is left alone and nothing is sent.
    """
    from filedock.client import Api, ResumeState, Uploader, UploadOptions, progress_bars

    if overwrite and rename:
        raise typer.BadParameter("choose one of --overwrite and --rename")
    if_exists = "overwrite" if overwrite else "rename" if rename else "fail"
    options = UploadOptions(
        chunk_size, parallel, content_type, _metadata(metadata), path=to, if_exists=if_exists
    )
    with (
        _reported_errors(server),
        Api(server, token=token, connections=parallel) as api,
        progress_bars() as bars,
    ):
        result = Uploader(api, ResumeState(), reporter=bars).upload(file, options)
    if as_json:
        typer.echo(json.dumps(result.as_json(), indent=2))
        return
    if result.unchanged:
        typer.echo(f"{to} already holds these bytes; nothing sent", err=True)
    elif result.resumed:
        typer.echo(
            f"resumed upload {result.upload_id}: sent {result.chunks_sent} of "
            f"{result.chunk_count} chunks",
            err=True,
        )
    typer.echo(result.file["id"])


@app.command()
def download(
    file_id: Annotated[str, typer.Argument(help="The id printed by `filedock upload`.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File or folder; default: its name, here."),
    ] = None,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
) -> None:
    """Download a file, resuming a partial download, and check its sha256."""
    from filedock.client import Api, download_file, progress_bars

    with _reported_errors(server), Api(server, token=token) as api, progress_bars() as bars:
        result = download_file(api, file_id, output, reporter=bars)
    typer.echo(str(result.path))


def main() -> None:
    app()


app.add_typer(keys_app, name="keys")

app.add_typer(cli_tenants.app, name="tenants")

__all__ = ["Path", "app", "main"]


# Managing a server's files: ls, info, rm, mv, share, uploads, usage ----------------------
JsonOption = Annotated[bool, typer.Option("--json", help="Print the server's JSON answer.")]
FileIdArgument = Annotated[
    str, typer.Argument(help="A file id (see `filedock ls`) or its path, e.g. /videos/a.mp4.")
]


@contextmanager
def _server(server: str, token: str | None) -> Iterator[Any]:
    """The client of `server`, whose failures end the command with a one-line message."""
    from filedock.client import Api

    with _reported_errors(server), Api(server, token=token) as api:
        yield api


def _show(value: Any, as_json: bool, table: Any = None) -> None:
    """The JSON answer for scripts, or the table for people."""
    from rich.console import Console

    if as_json:
        typer.echo(json.dumps(value, indent=2))
    else:
        Console().print(table, highlight=False)


@app.command()
def ls(
    prefix: Annotated[str | None, typer.Argument(help="Only files whose name starts so.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many files.")] = 100,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the tenant's files, newest first."""
    from filedock.client.remote import list_files
    from filedock.client.tables import files_table

    with _server(server, token) as api:
        items, total = list_files(api, prefix, limit)
    _show({"items": items, "total": total}, as_json, files_table(items, total))


@app.command()
def info(
    file_id: FileIdArgument,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one file: name, size, type, sha256, metadata, dates."""
    from filedock.client.remote import file_info
    from filedock.client.tables import record_table

    with _server(server, token) as api:
        record = file_info(api, file_id)
    _show(record, as_json, record_table(record))


@app.command()
def rm(
    file_id: FileIdArgument, server: ServerOption = DEFAULT_SERVER, token: TokenOption = None
) -> None:
    """Delete a file (its bytes are freed at once)."""
    from filedock.client.remote import delete_file

    with _server(server, token) as api:
        delete_file(api, file_id)
    typer.echo(f"deleted {file_id}")


@app.command()
def mv(
    file_id: FileIdArgument,
    new_name: Annotated[str, typer.Argument(help="A new name, or a new path starting with /.")],
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
) -> None:
    """Rename a file."""
    from filedock.client.remote import rename_file

    with _server(server, token) as api:
        record = rename_file(api, file_id, new_name)
    typer.echo(f"renamed {file_id} to {record['name']}")


@app.command()
def share(
    file_id: FileIdArgument,
    expires: Annotated[
        str, typer.Option(help="How long the link works: seconds, or 30m, 12h, 1d, 2w.")
    ] = "1d",
    max_downloads: Annotated[
        int | None, typer.Option(min=1, help="Downloads allowed, then the link ends.")
    ] = None,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print a link that downloads the file without a key (shown only this once)."""
    from filedock.client.remote import create_share

    with _server(server, token) as api:
        link = create_share(api, file_id, expires, max_downloads)
    if as_json:
        typer.echo(json.dumps(link, indent=2))
        return
    limit = "" if link["max_downloads"] is None else f", {link['max_downloads']} download(s)"
    typer.echo(f"share {link['id']}: until {link['expires_at']}{limit}", err=True)
    typer.echo(link["url"])


@app.command()
def uploads(
    server: ServerOption = DEFAULT_SERVER, token: TokenOption = None, as_json: JsonOption = False
) -> None:
    """List my unfinished uploads (a tenant admin: everyone's), newest first."""
    from filedock.client.remote import unfinished_uploads
    from filedock.client.tables import uploads_table

    with _server(server, token) as api:
        items = unfinished_uploads(api)
    _show({"items": items}, as_json, uploads_table(items))


@app.command()
def usage(
    server: ServerOption = DEFAULT_SERVER, token: TokenOption = None, as_json: JsonOption = False
) -> None:
    """Show the tenant's usage and limits."""
    from filedock.client.remote import usage as tenant_usage
    from filedock.client.tables import record_table

    with _server(server, token) as api:
        found = tenant_usage(api)
    if found is None:
        typer.echo(f"{server} does not report usage (GET /api/v1/usage answered 404)", err=True)
        raise typer.Exit(1)
    _show(found, as_json, record_table(found))
