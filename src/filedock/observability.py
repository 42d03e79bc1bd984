"""Logging and Prometheus metrics.

Logs: plain lines by default, one JSON object per line when configured; every request
gives one access line naming the upload it touched. Metrics are process-wide, as
prometheus_client intends: counters and histograms count what this process did, while
the gauges of uploads and jobs by state are read from the database at scrape time, so
every replica reports the same truth.

What the core did during a request (which upload, whether a part was recorded) is learnt
from the events it publishes, through `MeteredBus`: the core stays free of metrics.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

from filedock.core.events import Event, EventBus
from filedock.settings import Settings
from filedock.units import redact

access_log = logging.getLogger("filedock.access")

REQUESTS = Counter(
    "filedock_requests_total",
    "HTTP requests by method, route and status",
    ["method", "route", "status"],
)
CHUNK_SECONDS = Histogram(
    "filedock_chunk_request_seconds",
    "Latency of requests that recorded upload data (chunk PUT, tus PATCH, seed chunk)",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
RECEIVED_BYTES = Counter("filedock_received_bytes_total", "Upload bytes durably recorded")
ERRORS = Counter("filedock_errors_total", "Error answers by error code", ["code"])
UPLOADS_IN_PROGRESS = Gauge(
    "filedock_uploads_in_progress", "Uploads receiving or assembling (from the database)", ["state"]
)
JOBS = Gauge("filedock_jobs", "Jobs by kind and state (from the database)", ["kind", "state"])
JOB_SECONDS = Histogram(
    "filedock_job_duration_seconds",
    "Time to run one job, by kind and outcome",
    ["kind", "state"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900),
)
QUIET_ROUTES = {"/healthz", "/readyz", "/metrics"}  # probes log at DEBUG


@dataclass
class RequestInfo:
    """What the current request touched, filled in while it runs."""

    upload_id: str | None = None
    recorded_part: bool = False
    error_code: str | None = None
    # A response whose last body message never went out was cut short (the client went
    # away mid-download): logged as interrupted, with how much it got, not as a plain 200.
    body_ended: bool = True
    bytes_sent: int = 0


_current: ContextVar[RequestInfo | None] = ContextVar("filedock_request", default=None)


def note_error(code: str) -> None:
    """Called by the error renderer: count the error and name it in the access line."""
    ERRORS.labels(code).inc()
    info = _current.get()
    if info is not None:
        info.error_code = code


def set_counts(uploads: dict[str, int], jobs: dict[tuple[str, str], int]) -> None:
    """Refresh the database-backed gauges (states absent from the counts go to zero)."""
    for state in ("receiving", "assembling"):
        UPLOADS_IN_PROGRESS.labels(state).set(uploads.get(state, 0))
    JOBS.clear()
    for (kind, state), count in jobs.items():
        JOBS.labels(kind, state).set(count)


class MeteredBus:
    """The event bus, plus: count recorded bytes and tag the request that published.

    `publish` runs in the process and request that did the work, unlike `subscribe`, which
    with Redis hears every replica; so this is where per-process counts are exact.
    """

    def __init__(self, inner: EventBus) -> None:
        self.inner = inner

    async def publish(self, event: Event) -> None:
        info = _current.get()
        if info is not None and info.upload_id is None:
            info.upload_id = event.upload_id
        if event.kind == "upload.part":
            RECEIVED_BYTES.inc(int(event.data.get("size", 0)))
            if info is not None:
                info.recorded_part = True
        await self.inner.publish(event)

    def subscribe(
        self, upload_id: str | None = None
    ) -> contextlib.AbstractAsyncContextManager[Any]:
        return self.inner.subscribe(upload_id)


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]


class RequestObserver:
    """ASGI middleware: one access log line and the request metrics per HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        info = RequestInfo()
        token = _current.set(info)
        started = time.perf_counter()
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                info.body_ended = False
            elif message["type"] == "http.response.body":
                info.bytes_sent += len(message.get("body", b""))
                info.body_ended = not message.get("more_body", False)
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            _current.reset(token)
            _observe(scope, info, status[0], time.perf_counter() - started)


def _observe(scope: Scope, info: RequestInfo, status: int, seconds: float) -> None:
    route = getattr(scope.get("route"), "path", None) or "unmatched"
    REQUESTS.labels(scope["method"], route, str(status)).inc()
    if info.recorded_part:
        CHUNK_SECONDS.observe(seconds)
    params = scope.get("path_params") or {}
    path = scope["path"]
    if params.get("token"):  # a share link's path is its credential: never logged
        path = path.replace(params["token"], "<token>")
    fields = {
        "method": scope["method"],
        "path": path,
        "status": status,
        "duration_ms": round(seconds * 1000, 1),
        "upload_id": info.upload_id or params.get("upload_id"),
        "file_id": params.get("file_id"),
        "error": info.error_code,
        "interrupted": None if info.body_ended else True,
        "bytes_sent": None if info.body_ended else info.bytes_sent,
    }
    fields = {k: v for k, v in fields.items() if v is not None}
    names = ("upload_id", "file_id", "error", "bytes_sent")
    extras = " ".join(f"{k}={fields[k]}" for k in names if k in fields)
    access_log.log(
        logging.DEBUG if route in QUIET_ROUTES else logging.INFO,
        "%s %s %s %.1fms %s",
        scope["method"],
        path,
        status if info.body_ended else f"{status} interrupted",
        seconds * 1000,
        extras,
        extra={"fields": fields},
    )


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def banner(settings: Settings, listening: str) -> dict[str, str]:
    """What an operator needs to know at start: where it answers, and on what it runs.

    Passwords in URLs are masked."""
    return {
        "url": listening,
        "docs": f"{settings.public_url}/docs",
        "data": str(settings.data_dir),
        "database": redact(settings.database_url),
        "storage": redact(settings.storage_url),
        "jobs": redact(settings.broker_url) if settings.broker_url else "in-process",
        "redis": redact(settings.redis_url) if settings.redis_url else "off (one process)",
        "auth": _auth_mode(settings),
    }


def log_banner(settings: Settings, listening: str) -> None:
    fields = banner(settings, listening)
    width = max(map(len, fields))
    lines = "".join(f"\n  {name:<{width}}  {value}" for name, value in fields.items())
    logging.getLogger("filedock").info("filedock is starting:%s", lines, extra={"fields": fields})


PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str, as_json: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if as_json else logging.Formatter(PLAIN))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def _auth_mode(settings: Settings) -> str:
    jwt = (
        " + JWT"
        if settings.jwt_secret or settings.jwt_public_key_file or settings.jwt_jwks_url
        else ""
    )
    meaning = {
        "auto": "anonymous on loopback until a key exists",
        "required": "a key or token on every request",
        "none": "open to anyone who reaches the port",
    }[settings.auth]
    return f"{settings.auth}{jwt} ({meaning})"
