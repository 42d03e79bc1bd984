"""The lock contract, run on the in-memory locks and on Redis; then what only Redis adds:
holds shared between processes, and holds of dead processes expiring."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from filedock.errors import Code, FiledockError
from filedock.locks.base import LockService
from filedock.locks.memory import MemoryLocks
from filedock.locks.redis import RedisLocks
from tests.scale.services import REDIS_URL, namespace, require

TTL = 1.0


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(require(REDIS_URL))
    yield client
    await client.aclose()


@pytest.fixture
async def redis_locks(redis: Redis) -> AsyncIterator[RedisLocks]:
    locks = RedisLocks(redis, TTL, namespace())
    yield locks
    await locks.close()


@pytest.fixture(params=["memory", "redis"])
def locks(request: pytest.FixtureRequest) -> LockService:
    if request.param == "memory":
        return MemoryLocks()
    service: RedisLocks = request.getfixturevalue("redis_locks")
    return service


async def busy(hold: object) -> None:
    with pytest.raises(FiledockError) as caught:
        async with hold:  # type: ignore[attr-defined]
            pass
    assert caught.value.code == Code.UPLOAD_BUSY


async def test_shared_holds_run_together(locks: LockService) -> None:
    async with locks.shared("a", 0.2), locks.shared("a", 0.2):
        await busy(locks.exclusive("a", 0.1))
    async with locks.exclusive("a", 0.2):
        pass


async def test_exclusive_keeps_everyone_out_then_lets_the_waiter_in(locks: LockService) -> None:
    order: list[str] = []

    async def waiter() -> None:
        async with locks.exclusive("b", 5):
            order.append("waiter")

    async with locks.exclusive("b", 0.2):
        await busy(locks.shared("b", 0.1))
        await busy(locks.exclusive("b", 0.1))
        task = asyncio.create_task(waiter())
        await asyncio.sleep(0.1)
        order.append("holder")
    await asyncio.wait_for(task, 5)
    assert order == ["holder", "waiter"]


async def test_other_names_are_independent(locks: LockService) -> None:
    async with locks.exclusive("c1", 0.2), locks.exclusive("c2", 0.2):
        pass


@pytest.mark.parametrize("waiting", ["shared", "exclusive"])
async def test_a_waiter_asks_the_holder_to_let_go(locks: LockService, waiting: str) -> None:
    asked = asyncio.Event()
    holder_done = asyncio.Event()

    async def holder() -> None:
        async with locks.exclusive("d", 1, on_release=asked.set):
            await asyncio.wait_for(asked.wait(), 5)  # a PATCH cut short by the request
        holder_done.set()

    task = asyncio.create_task(holder())
    await asyncio.sleep(0.2)
    hold = locks.shared("d", 5) if waiting == "shared" else locks.exclusive("d", 5)
    async with hold:
        assert holder_done.is_set()
    await task


async def test_a_cancelled_holder_lets_go_at_once(locks: LockService) -> None:
    held = asyncio.Event()

    async def holder() -> None:
        async with locks.exclusive("e", 1):
            held.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(holder())
    await held.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with locks.exclusive("e", 0.3):  # far less than the ttl
        pass


async def test_a_claim_is_granted_once(locks: LockService) -> None:
    assert await locks.claim("period-1", 5)
    assert not await locks.claim("period-1", 5)
    assert await locks.claim("period-2", 5)


# Redis only ---------------------------------------------------------------------------


async def test_holds_are_shared_between_processes(redis: Redis) -> None:
    ns = namespace()
    first, second = RedisLocks(redis, TTL, ns), RedisLocks(redis, TTL, ns)
    async with first.exclusive("f", 0.2):
        await busy(second.shared("f", 0.1))
    async with first.shared("f", 0.2), second.shared("f", 0.2):
        await busy(second.exclusive("f", 0.1))
    assert await first.claim("p", 5)
    assert not await second.claim("p", 5)


async def test_a_live_holder_keeps_its_hold_past_the_ttl(redis_locks: RedisLocks) -> None:
    async with redis_locks.exclusive("g", 0.2):
        await asyncio.sleep(TTL * 2.5)
        await busy(redis_locks.exclusive("g", 0.1))


@pytest.mark.parametrize("left_by", ["writer", "reader"])
async def test_the_hold_of_a_dead_process_expires(
    redis: Redis, redis_locks: RedisLocks, left_by: str
) -> None:
    """What a process killed while holding leaves behind: a token nobody extends."""
    writer, readers = redis_locks._keys("h")
    seconds, micros = await redis.time()
    if left_by == "writer":
        await redis.set(writer, "dead", px=int(TTL * 1000))
    else:
        expiry = seconds * 1000 + micros // 1000 + int(TTL * 1000)
        await redis.zadd(readers, {"dead": expiry})
    await busy(redis_locks.exclusive("h", 0.1))
    started = asyncio.get_running_loop().time()
    async with redis_locks.exclusive("h", TTL * 5):
        assert asyncio.get_running_loop().time() - started < TTL * 3


async def test_redis_down_is_a_clear_503() -> None:
    locks = RedisLocks(Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1), TTL)
    with pytest.raises(FiledockError) as caught:
        async with locks.shared("i", 0.1):
            pass
    assert caught.value.code == Code.REDIS_UNAVAILABLE
    assert caught.value.status == 503
    await locks.redis.aclose()
