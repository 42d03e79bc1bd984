"""Event bus over Redis pub/sub, so progress published by one replica or worker reaches
subscribers on every other one.

Every event goes to one channel. Each process keeps one subscription to it (started with
its first subscriber) and fans events out to its local subscribers through a MemoryBus,
so a thousand WebSocket watchers cost one Redis connection, not a thousand.

Events are news about state that lives in SQL, not the state itself: publishing while
Redis is down logs and drops the event rather than failing a request whose bytes are
already recorded; the listener reconnects by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from redis.exceptions import RedisError

from filedock.bus.memory import MemoryBus
from filedock.core.events import Event
from filedock.errors import Code, FiledockError

log = logging.getLogger("filedock.bus")

RECONNECT_PAUSE = 1.0
READY_WAIT = 5.0


class RedisBus:
    def __init__(self, redis: Redis, namespace: str = "filedock") -> None:
        self.redis = redis
        self.channel = f"{namespace}:events"
        self._local = MemoryBus()
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def publish(self, event: Event) -> None:
        payload = json.dumps(
            {"kind": event.kind, "upload_id": event.upload_id, "data": event.data}, default=str
        )
        try:
            await self.redis.publish(self.channel, payload)
        except RedisError as exc:
            log.warning(
                "event %s of %s dropped: Redis is unreachable (%s)",
                event.kind,
                event.upload_id,
                exc,
            )

    @contextlib.asynccontextmanager
    async def subscribe(self, upload_id: str | None = None) -> AsyncIterator[asyncio.Queue[Event]]:
        """Events published anywhere after this returns are delivered (Redis has confirmed
        the subscription), which is what "complete, then wait for the worker" relies on."""
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen(), name="redis-bus")
        try:
            await asyncio.wait_for(self._ready.wait(), READY_WAIT)
        except TimeoutError as exc:
            raise FiledockError(
                Code.REDIS_UNAVAILABLE, "Redis does not accept the event subscription."
            ) from exc
        async with self._local.subscribe(upload_id) as queue:
            yield queue

    async def _listen(self) -> None:
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    while True:
                        message = await pubsub.get_message(timeout=1.0)
                        if message is not None:
                            await self._dispatch(message)
            except RedisError as exc:
                self._ready.clear()
                log.warning("event subscription lost (%s); reconnecting", exc)
                await asyncio.sleep(RECONNECT_PAUSE)

    async def _dispatch(self, message: dict[str, object]) -> None:
        if message["type"] == "subscribe":
            self._ready.set()
        elif message["type"] == "message":
            raw = json.loads(message["data"])  # type: ignore[arg-type]
            await self._local.publish(Event(raw["kind"], raw["upload_id"], raw["data"]))

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
