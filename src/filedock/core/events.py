"""Events: every upload state change and received part is published here.

Live progress (WebSocket/SSE), hooks and webhooks subscribe to the bus; the core never
knows who listens. The in-memory bus serves one process; a Redis bus fans out later.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from filedock.core.models import Upload, UploadState


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


SETTLED = frozenset({"upload.completed", "upload.failed"})


async def until_settled(
    upload: Upload,
    events: asyncio.Queue[Event],
    wait: float,
    load: Callable[[str], Awaitable[Upload]],
) -> Upload:
    """The upload once its assembly ended (an event from `events` says so), or as it is
    after `wait` seconds; `events` must be subscribed before the assembly could end."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(wait):
            while upload.state == UploadState.ASSEMBLING:
                while (await events.get()).kind not in SETTLED:
                    pass
                upload = await load(upload.id)
    return upload
