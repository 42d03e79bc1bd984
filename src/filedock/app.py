"""create_app(settings): the ASGI app, its lifespan, routers and error renderers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI

from filedock import __version__
from filedock.api import files, keys, legacy, ops, shares, tus, uploads, usage
from filedock.api.limits import bounded_headers
from filedock.api.rendering import install_error_renderers, register_renderer
from filedock.api.web import install as install_web
from filedock.observability import RequestObserver
from filedock.settings import Settings
from filedock.shutdown import Drain, Draining
from filedock.wiring import Services, build_services

log = logging.getLogger("filedock")

DESCRIPTION = """Resumable, chunked uploads of large files: create an upload, PUT its chunks
in any order and in parallel, ask which are missing after any interruption, complete it,
then download with Range support. Every error is `{code, message, details}`."""


async def _expire_periodically(services: Services) -> None:
    """Once per period across all replicas: each wakes at the start of every period and
    only the first to claim it (a Redis key; on one box, a dict) runs the cleanup."""
    interval = services.settings.cleanup_interval_seconds
    while True:
        await asyncio.sleep(interval - time.time() % interval)
        try:
            if not await services.locks.claim(f"expire:{int(time.time() // interval)}", interval):
                continue
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

    app = FastAPI(
        title="filedock",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(bounded_headers)],  # every route: header count and size
    )
    install_error_renderers(app)
    app.state.drain = Drain(settings.shutdown_timeout_seconds)  # started by shutdown.serve
    app.add_middleware(Draining, drain=app.state.drain)
    app.add_middleware(RequestObserver)  # added last: outermost, so it logs the 503s too
    app.include_router(uploads.router)
    app.include_router(files.router)
    app.include_router(keys.router)
    app.include_router(shares.router)
    app.include_router(usage.router)
    app.include_router(ops.router)
    app.include_router(legacy.router)
    register_renderer(app, legacy.PREFIX, legacy.render)
    tus.install(app, settings)
    install_web(app)
    return app
