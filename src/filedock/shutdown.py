"""Graceful shutdown: on SIGTERM or SIGINT, stop accepting, let requests in flight (chunk
writes above all) finish for up to FILEDOCK_SHUTDOWN_TIMEOUT_SECONDS, answer the rest 503
with Retry-After, then exit 0. A second signal exits at once.

uvicorn already stops accepting connections and waits for requests in flight, but when
its timeout passes it cancels them without an answer, answers nothing to requests that
arrive meanwhile on open connections, and re-raises the signal after a clean stop (so the
process dies of SIGTERM instead of exiting 0). So:
- `Drain` is the shared state: whether the server is draining, and the requests in
  flight, cancelled when the drain time is over;
- `Draining` (ASGI middleware) answers 503 + Retry-After to a request arriving while
  draining, and to one cancelled before it had started its answer. A cancelled chunk
  write records nothing: the core records a chunk only once all of its bytes are durable,
  so the client sends it again (to this server after its restart, or another replica);
- `GracefulServer` (uvicorn.Server) starts the drain on the first signal and exits on the
  second, and does not re-raise the signal.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable, MutableMapping
from types import FrameType
from typing import Any

import uvicorn

from filedock.errors import ERRORS, Code

log = logging.getLogger("filedock")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

RETRY_AFTER_SECONDS = 5  # about what a restart takes; other replicas answer at once


class Drain:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.draining = False
        self.expired = False
        self.in_flight: set[asyncio.Task[Any]] = set()

    def begin(self, loop: asyncio.AbstractEventLoop) -> None:
        """Thread- and signal-safe: the rest runs on the event loop."""
        loop.call_soon_threadsafe(self._begin, loop)

    def _begin(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.draining:
            return
        self.draining = True
        log.info(
            "shutting down: %d request(s) in flight get %ss to finish",
            len(self.in_flight),
            self.timeout,
        )
        loop.call_later(self.timeout, self._expire)

    def _expire(self) -> None:
        self.expired = True
        if self.in_flight:
            log.warning("shutdown: %d request(s) cut short with 503", len(self.in_flight))
        for task in list(self.in_flight):
            task.cancel()


class Draining:
    """ASGI middleware; the answer it gives is the error table's `shutting_down`."""

    def __init__(self, app: ASGIApp, drain: Drain) -> None:
        self.app = app
        self.drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.drain.draining:
            await _refuse(send)
            return
        task = asyncio.current_task()
        assert task is not None
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        self.drain.in_flight.add(task)
        try:
            await self.app(scope, receive, sending)
        except asyncio.CancelledError:
            if not self.drain.expired:
                raise  # cancelled by someone else: not ours to answer
            task.uncancel()
            if not started:
                await _refuse(send)
        finally:
            self.drain.in_flight.discard(task)


async def _refuse(send: Send) -> None:
    code = Code.SHUTTING_DOWN
    body = json.dumps({"code": code.value, "message": ERRORS[code].message, "details": {}})
    await send(
        {
            "type": "http.response.start",
            "status": ERRORS[code].status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body.encode()})


class GracefulServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, drain: Drain) -> None:
        super().__init__(config)
        self.drain = drain

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit:
            log.warning("second signal: exiting now")
            os._exit(1)
        self.should_exit = True
        self.drain.begin(asyncio.get_running_loop())


def serve(app: Any, drain: Drain, host: str, port: int) -> None:
    """Run `app` until a signal, then drain as described above (blocks)."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,  # filedock logs one line per request itself, with the upload id
        # uvicorn's own deadline comes after ours: by then every request has its answer
        timeout_graceful_shutdown=int(drain.timeout) + 5,
    )
    server = GracefulServer(config, drain)
    server.run()
    if not server.started:  # start-up failed (and was logged): not a clean exit
        raise SystemExit(3)
