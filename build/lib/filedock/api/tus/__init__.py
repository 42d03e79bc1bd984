"""tus 1.0.0 front-end: resumable uploads for tus-js-client, Uppy, tuspy and the rest.

`install` puts it on an app: the routes under the configured base path, the ASGI layer
(method override, Tus-Resumable, CORS) and the tus error renderer for that path.
"""

from __future__ import annotations

from fastapi import FastAPI

from filedock.api.rendering import register_renderer
from filedock.api.tus.routes import build_router
from filedock.api.tus.wire import TusMiddleware, render_tus
from filedock.settings import Settings


def install(app: FastAPI, settings: Settings) -> None:
    base = settings.tus_base_path
    app.include_router(build_router(base))
    app.add_middleware(TusMiddleware, base_path=base, origins=settings.tus_cors_origins)
    register_renderer(app, base.rstrip("/"), render_tus)
