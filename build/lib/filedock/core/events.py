"""Events: every upload state change and received part is published here.

Live progress (WebSocket/SSE), hooks and webhooks subscribe to the bus; the core never
knows who listens. The in-memory bus serves one process; a Redis bus fans out later.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Event:
    kind: str  # upload.created, upload.part, upload.assembling, upload.completed, ...
    upload_id: str
    data: dict[str, Any] = field(default_factory=dict)


class EventBus(Protocol):
    async def publish(self, event: Event) -> None: ...

    def subscribe(
        self, upload_id: str | None = None
    ) -> contextlib.AbstractAsyncContextManager[asyncio.Queue[Event]]:
        """Receive the events of one upload (or all, with None) while the context is open."""
        ...
