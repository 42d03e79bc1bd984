"""The event bus contract, on the in-memory bus and on Redis; then Redis across processes,
outages and reconnection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from filedock.bus import redis as redis_bus
from filedock.bus.memory import MemoryBus
from filedock.bus.redis import RedisBus
from filedock.core.events import Event, EventBus
from filedock.errors import Code, FiledockError
from tests.scale.services import REDIS_URL, namespace, require


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(require(REDIS_URL))
    yield client
    await client.aclose()


@pytest.fixture(params=["memory", "redis"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    if request.param == "memory":
        yield MemoryBus()
        return
    client = Redis.from_url(require(REDIS_URL))
    service = RedisBus(client, namespace())
    yield service
    await service.close()
    await client.aclose()


async def next_event(queue: asyncio.Queue[Event]) -> Event:
    return await asyncio.wait_for(queue.get(), 5)


async def test_subscribers_get_their_uploads_events_in_order(bus: EventBus) -> None:
    async with bus.subscribe("u1") as mine, bus.subscribe() as everything:
        for event in (Event("upload.part", "u1", {"number": 0}), Event("upload.part", "u2")):
            await bus.publish(event)
        await bus.publish(Event("upload.completed", "u1", {"file_id": "f"}))
        assert await next_event(mine) == Event("upload.part", "u1", {"number": 0})
        assert await next_event(mine) == Event("upload.completed", "u1", {"file_id": "f"})
        assert [(await next_event(everything)).upload_id for _ in range(3)] == ["u1", "u2", "u1"]
        assert mine.empty()


async def test_events_cross_processes(redis: Redis) -> None:
    ns = namespace()
    worker, server = RedisBus(redis, ns), RedisBus(redis, ns)
    try:
        async with server.subscribe("u") as events:
            await worker.publish(Event("upload.completed", "u", {"file_id": "f"}))
            assert (await next_event(events)).data == {"file_id": "f"}
    finally:
        await worker.close()
        await server.close()


async def test_the_subscription_comes_back_after_redis_drops_it(redis: Redis) -> None:
    name = namespace()
    client = Redis.from_url(REDIS_URL, client_name=name)
    bus = RedisBus(client, name)
    try:
        async with bus.subscribe("u") as events:
            mine = [e["id"] for e in await redis.client_list(_type="pubsub") if e["name"] == name]
            assert len(mine) == 1  # only this bus's connection is dropped, nobody else's
            await redis.client_kill_filter(_id=mine[0])
            for _ in range(100):  # the listener notices, reconnects and resubscribes
                await bus.publish(Event("upload.part", "u"))
                try:
                    await asyncio.wait_for(events.get(), 0.1)
                    break
                except TimeoutError:
                    continue
            else:
                pytest.fail("no event arrived after the subscription was killed")
    finally:
        await bus.close()
        await client.aclose()


async def test_redis_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """Publishing is news about state kept in SQL: dropped, never an error. Subscribing
    cannot work, and says so with the error table's 503."""
    monkeypatch.setattr(redis_bus, "READY_WAIT", 0.5)
    client = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    bus = RedisBus(client)
    await bus.publish(Event("upload.part", "u"))
    with pytest.raises(FiledockError) as caught:
        async with bus.subscribe("u"):
            pass
    assert caught.value.code == Code.REDIS_UNAVAILABLE
    await bus.close()
    await client.aclose()
