"""tus on the wire, around the routes: method override, Tus-Resumable, CORS, errors, bodies.

Everything here applies to the tus base path only, so the native API keeps its own shape.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import Request
from fastapi.responses import PlainTextResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from filedock.api.rendering import render_native
from filedock.api.tus.headers import VERSION
from filedock.errors import Code, FiledockError

METHODS = ("POST", "HEAD", "PATCH", "DELETE", "OPTIONS", "GET")
REQUEST_HEADERS = (
    "Authorization",
    "Content-Type",
    "Origin",
    "X-Requested-With",
    "X-Request-ID",
    "X-HTTP-Method-Override",
    "Tus-Resumable",
    "Upload-Length",
    "Upload-Defer-Length",
    "Upload-Offset",
    "Upload-Metadata",
    "Upload-Concat",
    "Upload-Checksum",
)
RESPONSE_HEADERS = (
    "Location",
    "Tus-Resumable",
    "Tus-Version",
    "Tus-Extension",
    "Tus-Max-Size",
    "Tus-Checksum-Algorithm",
    "Upload-Offset",
    "Upload-Length",
    "Upload-Defer-Length",
    "Upload-Metadata",
    "Upload-Concat",
    "Upload-Expires",
    "Content-Range",
    "Content-Disposition",
    "ETag",
)
# Where tus means another status than the error table's (native) one.
STATUS = {
    Code.CHECKSUM_MISMATCH: 460,  # tus checksum extension
    Code.INVALID_REQUEST: 400,
    Code.SIZE_MISMATCH: 400,  # Upload-Length contradicting what the upload has
}


class TusMiddleware:
    """Pure ASGI, for requests under the tus base path only.

    X-HTTP-Method-Override replaces the method before routing (clients behind proxies
    that drop PATCH send POST); every response gets Tus-Resumable, including those of
    routing errors; browsers get CORS with the tus headers allowed and exposed.
    """

    def __init__(self, app: ASGIApp, base_path: str, origins: list[str]) -> None:
        self.app = app
        self.base_path = base_path
        self.cors = CORSMiddleware(
            self._tus,
            allow_origins=origins,
            allow_methods=METHODS,
            allow_headers=REQUEST_HEADERS,
            expose_headers=RESPONSE_HEADERS,
            max_age=86400,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path.startswith(self.base_path) or path == self.base_path.rstrip("/"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _tus(self, scope: Scope, receive: Receive, send: Send) -> None:
        override = _header(scope, b"x-http-method-override")
        if override:
            scope = {**scope, "method": override.strip().upper()}

        async def send_resumable(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Tus-Resumable"] = VERSION
            await send(message)

        await self.app(scope, receive, send_resumable)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def render_tus(request: Request, error: FiledockError) -> Response:
    """tus errors: the status tus expects, a short text body, and no body for HEAD.

    GET downloads keep the native JSON (and its Content-Range on a 416).
    """
    if request.method == "GET":
        return render_native(request, error)
    headers = {"Tus-Resumable": VERSION}
    if error.code == Code.TUS_VERSION_UNSUPPORTED:
        headers["Tus-Version"] = VERSION
    status = STATUS.get(error.code, error.status)
    if request.method == "HEAD":
        headers["Cache-Control"] = "no-store"
        return Response(status_code=status, headers=headers)
    return PlainTextResponse(f"{error.code.value}: {error.message}\n", status, headers)


class InterruptibleBody:
    """A request body the lock service can ask to stop early (see locks/base.py).

    The holder of an upload is asked to let go when another request needs the upload;
    its connection is probably dead, so the read it waits in may never return. Only that
    read is cancelled (never a storage write in progress): the body then ends, and the
    core records every byte that arrived. A client that goes away ends it the same way.
    """

    def __init__(self, request: Request) -> None:
        self.request = request
        self.task: asyncio.Task[object] | None = None
        self.reading = False
        self.stopped = False

    def release(self) -> None:
        self.stopped = True
        if self.reading and self.task is not None:
            self.task.cancel()

    async def stream(self) -> AsyncIterator[bytes]:
        self.task = asyncio.current_task()
        pieces = self.request.stream()
        while not self.stopped:
            self.reading = True
            try:
                piece = await anext(pieces)
            except (StopAsyncIteration, ClientDisconnect):
                return
            except asyncio.CancelledError:
                if not self.stopped or self.task is None:
                    raise
                self.task.uncancel()
                return
            finally:
                self.reading = False
            yield piece
