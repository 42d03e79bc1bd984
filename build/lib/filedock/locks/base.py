"""The lock service: shared holds for part writes, exclusive holds for appends and completion.

Part writes of one upload run in parallel (shared); appends (tus PATCH), completion, abort
and expiry need them all finished and no new ones starting (exclusive). A waiter gives up
after `wait` seconds with UPLOAD_BUSY instead of hanging behind a dead connection.

A holder whose work can be cut short (a PATCH streaming a body from a connection that may
be dead) passes `on_release`: any request that then has to wait for the lock calls it once,
asking the holder to stop early and let go, and waits at most `wait` seconds. Without this a
client that reconnects after its first connection silently died would be locked out until
TCP noticed. Across replicas (Redis) the holder subscribes to a per-lock release channel
while it holds the lock and a waiter publishes one message on it before waiting.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Protocol

Release = Callable[[], None]


class LockService(Protocol):
    def shared(self, name: str, wait: float) -> contextlib.AbstractAsyncContextManager[None]: ...

    def exclusive(
        self, name: str, wait: float, on_release: Release | None = None
    ) -> contextlib.AbstractAsyncContextManager[None]:
        """Hold `name` alone; `on_release` is called when another request waits for it."""
        ...

    async def claim(self, name: str, seconds: float) -> bool:
        """True for exactly one caller per `name` for `seconds` (once-per-period work)."""
        ...
