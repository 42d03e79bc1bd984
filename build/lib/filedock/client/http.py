"""The HTTP side of the client: one pooled httpx.Client, JSON errors, retries with backoff."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar

import httpx

T = TypeVar("T")

# Worth another try: timeouts, a busy upload (423), overload and server or storage hiccups.
# 507 (storage full) is left out: retrying within seconds will not free the disk.
TRANSIENT_STATUSES = frozenset({408, 423, 425, 429, 500, 502, 503, 504})


class ClientError(Exception):
    """An error the server answered with (its stable `code`), or one the client found."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details or {}

    @classmethod
    def of(cls, response: httpx.Response) -> ClientError:
        """Read the server's `{code, message, details}` body, or make do with the status."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "code" not in body:
            text = response.text[:200] or response.reason_phrase
            return cls(f"http_{response.status_code}", text, response.status_code)
        return cls(
            str(body["code"]),
            str(body.get("message", "")),
            response.status_code,
            body.get("details") or {},
        )

    def __str__(self) -> str:
        status = f"HTTP {self.status} " if self.status else ""
        return f"{status}{self.code}: {self.message}"


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, ClientError) and exc.status in TRANSIENT_STATUSES


@dataclass(frozen=True)
class Retry:
    """Exponential backoff with jitter, for idempotent requests only."""

    attempts: int = 5
    delay: float = 0.5
    max_delay: float = 8.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def call(self, action: Callable[[], T]) -> T:
        attempt = 1
        while True:
            try:
                return action()
            except (httpx.TransportError, ClientError) as exc:
                if attempt >= self.attempts or not is_transient(exc):
                    raise
            pause = min(self.max_delay, self.delay * 2 ** (attempt - 1))
            self.sleep(pause * random.uniform(0.5, 1.0))
            attempt += 1


class Api:
    """One filedock server. Responses with an error status raise ClientError."""

    def __init__(self, base_url: str, *, connections: int = 8, timeout: float = 120.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=10.0),
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, url, **kwargs)
        if response.is_error:
            raise ClientError.of(response)
        return response

    def json(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        body: dict[str, Any] = self.request(method, url, **kwargs).json()
        return body

    @contextmanager
    def stream(self, method: str, url: str, **kwargs: Any) -> Iterator[httpx.Response]:
        with self.http.stream(method, url, **kwargs) as response:
            if response.is_error:
                response.read()
                raise ClientError.of(response)
            yield response

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Api:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
