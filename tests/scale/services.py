"""Redis and RabbitMQ for the scale tests: where they are, and whether they answer.

Like the database servers (tests/databases.py), a service that does not answer skips the
tests needing it, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import os
import socket
import uuid
from functools import cache
from urllib.parse import urlsplit

from tests.databases import unavailable

REDIS_URL = os.environ.get("FILEDOCK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RABBITMQ_URL = os.environ.get("FILEDOCK_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
BROKERS = {"rabbitmq": RABBITMQ_URL, "redis": REDIS_URL}


@cache
def _answers(host: str, port: int) -> str | None:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        return str(exc)
    return None


def require(url: str) -> str:
    """The URL, after making sure something listens there (skip or fail otherwise)."""
    parts = urlsplit(url)
    default = {"redis": 6379, "amqp": 5672}[parts.scheme]
    reason = _answers(parts.hostname or "127.0.0.1", parts.port or default)
    if reason:
        unavailable(f"{parts.scheme} at {parts.hostname}:{parts.port or default}", reason)
    return url


def namespace() -> str:
    """A Redis key and channel prefix of one test's own, so runs never share claims."""
    return f"fdt-{uuid.uuid4().hex[:12]}"
