"""create_app(settings): the ASGI app, its lifespan, routers and error renderers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from filedock import __version__
from filedock.api import files, ops, uploads
from filedock.api.rendering import install_error_renderers
from filedock.settings import Settings
from filedock.wiring import Services, build_services

log = logging.getLogger("filedock")

DESCRIPTION = """Resumable, chunked uploads of large files: create an upload, PUT its chunks
in any order and in parallel, ask which are missing after any interruption, complete it,
then download with Range support. Every error is `{code, message, details}`."""


async def _expire_periodically(services: Services) -> None:
    while True:
        await asyncio.sleep(services.settings.cleanup_interval_seconds)
        try:
            count = await services.uploads.expire_idle()
            if count:
                log.info("expired %d idle upload(s)", count)
        except Exception:
            log.exception("periodic cleanup failed; will try again")


def create_app(settings: Settings) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await build_services(settings)
        app.state.services = services
        await services.jobs.start()
        cleanup = asyncio.create_task(_expire_periodically(services), name="cleanup")
        try:
            yield
        finally:
            cleanup.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await cleanup
            await services.close()

    app = FastAPI(title="filedock", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    install_error_renderers(app)
    app.include_router(uploads.router)
    app.include_router(files.router)
    app.include_router(ops.router)
    return app
