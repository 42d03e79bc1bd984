"""In-process event bus, the embedded default."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from filedock.core.events import Event


class MemoryBus:
    """Fan-out to in-process subscribers; a slow subscriber drops events, never blocks."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._queue_size = queue_size
        self._subscribers: dict[str | None, set[asyncio.Queue[Event]]] = {}

    async def publish(self, event: Event) -> None:
        for key in (event.upload_id, None):
            for queue in self._subscribers.get(key, ()):
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(event)

    @contextlib.asynccontextmanager
    async def subscribe(self, upload_id: str | None = None) -> AsyncIterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(self._queue_size)
        self._subscribers.setdefault(upload_id, set()).add(queue)
        try:
            yield queue
        finally:
            self._subscribers[upload_id].discard(queue)
