"""Readers-writer locks in Redis, shared by every replica and worker.

Each hold has a random token and an expiry (`ttl`); while the holder lives, a keeper task
extends it every ttl/3. A holder that dies (kill -9, lost network) stops extending, so its
hold expires by itself and the next request proceeds. Expiries use the Redis server's
clock (TIME inside the scripts), so replicas with skewed clocks agree.

Keys for lock `name`: `<ns>:lock:<name>:w` holds the writer's token; `<ns>:lock:<name>:r`
is a sorted set of reader tokens scored by their expiry in milliseconds.

Release requests (see locks/base.py) travel on `<ns>:release:<name>`: a request that has to
wait publishes once there; one pattern subscription per process hands the message to the
local exclusive holder that registered `on_release`, so a thousand held PATCHes cost one
Redis connection, not a thousand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from filedock.errors import Code, FiledockError
from filedock.locks.base import Release

log = logging.getLogger("filedock.locks")

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""
# KEYS: writer, readers. ARGV: token, ttl in ms. Acquiring again with the token one
# holds succeeds, so a call retried after a lost reply cannot lock its holder out.
ACQUIRE_SHARED = (
    _NOW
    + """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
"""
)
ACQUIRE_EXCLUSIVE = (
    _NOW
    + """
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('ZCARD', KEYS[2]) > 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
)
EXTEND_SHARED = (
    _NOW
    + """
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[2], 'XX', now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
"""
)
EXTEND_EXCLUSIVE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""
RELEASE_SHARED = "return redis.call('ZREM', KEYS[2], ARGV[1])"
RELEASE_EXCLUSIVE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
"""
SCRIPTS = (
    ACQUIRE_SHARED,
    EXTEND_SHARED,
    RELEASE_SHARED,
    ACQUIRE_EXCLUSIVE,
    EXTEND_EXCLUSIVE,
    RELEASE_EXCLUSIVE,
)
READY_WAIT = 5.0


def unavailable(exc: RedisError) -> FiledockError:
    return FiledockError(
        Code.REDIS_UNAVAILABLE, f"Redis cannot be reached ({type(exc).__name__}: {exc})."
    )


class RedisLocks:
    def __init__(self, redis: Redis, ttl: float, namespace: str = "filedock") -> None:
        self.redis = redis
        self.ttl_ms = int(ttl * 1000)
        self.namespace = namespace
        self.releases = ReleaseRequests(redis, f"{namespace}:release:")
        scripts = [redis.register_script(s) for s in SCRIPTS]
        self._shared, self._exclusive = scripts[:3], scripts[3:]

    def _keys(self, name: str) -> list[str]:
        base = f"{self.namespace}:lock:{name}"
        return [f"{base}:w", f"{base}:r"]

    async def _run(self, script: AsyncScript, name: str, token: str) -> bool:
        try:
            result: Any = await script(keys=self._keys(name), args=[token, self.ttl_ms])
        except RedisError as exc:
            raise unavailable(exc) from exc
        return bool(result)

    @contextlib.asynccontextmanager
    async def shared(self, name: str, wait: float) -> AsyncIterator[None]:
        async with self._held(name, wait, *self._shared):
            yield

    @contextlib.asynccontextmanager
    async def exclusive(
        self, name: str, wait: float, on_release: Release | None = None
    ) -> AsyncIterator[None]:
        async with self._held(name, wait, *self._exclusive):
            if on_release is None:
                yield
                return
            await self.releases.watch(name, on_release)
            try:
                yield
            finally:
                self.releases.unwatch(name, on_release)

    @contextlib.asynccontextmanager
    async def _held(
        self,
        name: str,
        wait: float,
        acquire: AsyncScript,
        extend: AsyncScript,
        release: AsyncScript,
    ) -> AsyncIterator[None]:
        token = uuid.uuid4().hex
        await self._acquire(acquire, name, token, wait)
        keeper = asyncio.create_task(self._keep(extend, name, token), name=f"lock-{name}")
        try:
            yield
        finally:
            keeper.cancel()
            # Shielded: a cancelled request still lets go at once instead of after the ttl.
            with contextlib.suppress(FiledockError, asyncio.CancelledError):
                await asyncio.shield(self._run(release, name, token))

    async def _acquire(self, script: AsyncScript, name: str, token: str, wait: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        pause = 0.005
        if await self._run(script, name, token):
            return
        await self.releases.ask(name)
        while not await self._run(script, name, token):
            if loop.time() >= deadline:
                raise FiledockError(
                    Code.UPLOAD_BUSY, f"The upload is held by another request for over {wait:g}s."
                )
            await asyncio.sleep(min(pause, max(0.0, deadline - loop.time())))
            pause = min(pause * 2, 0.1) * random.uniform(0.8, 1.2)

    async def _keep(self, script: AsyncScript, name: str, token: str) -> None:
        """Extend the hold while its owner lives; a lost hold is logged, not hidden."""
        while True:
            await asyncio.sleep(self.ttl_ms / 3000)
            try:
                if not await self._run(script, name, token):
                    log.warning("lock %s expired while held (the holder stalled)", name)
                    return
            except FiledockError as exc:
                log.warning("could not extend lock %s: %s", name, exc.message)

    async def claim(self, name: str, seconds: float) -> bool:
        key = f"{self.namespace}:claim:{name}"
        try:
            return bool(await self.redis.set(key, "1", nx=True, px=int(seconds * 1000)))
        except RedisError as exc:
            raise unavailable(exc) from exc

    async def close(self) -> None:
        await self.releases.close()


class ReleaseRequests:
    """Carries "please let go" from a waiter on any replica to the holder of a lock."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self._holders: dict[str, Release] = {}
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def ask(self, name: str) -> None:
        """Best effort: if Redis cannot carry the request, the waiter simply waits."""
        with contextlib.suppress(RedisError):
            await self.redis.publish(self.prefix + name, "release")

    async def watch(self, name: str, on_release: Release) -> None:
        self._holders[name] = on_release
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen(), name="lock-releases")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), READY_WAIT)

    def unwatch(self, name: str, on_release: Release) -> None:
        if self._holders.get(name) is on_release:
            del self._holders[name]

    async def _listen(self) -> None:
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.psubscribe(self.prefix + "*")
                    while True:
                        message = await pubsub.get_message(timeout=1.0)
                        if message is not None:
                            self._dispatch(message)
            except RedisError as exc:
                self._ready.clear()
                log.warning("lock release subscription lost (%s); reconnecting", exc)
                await asyncio.sleep(1.0)

    def _dispatch(self, message: dict[str, Any]) -> None:
        if message["type"] == "psubscribe":
            self._ready.set()
        elif message["type"] == "pmessage":
            channel = message["channel"]
            name = (channel.decode() if isinstance(channel, bytes) else channel)[len(self.prefix) :]
            release = self._holders.pop(name, None)
            if release is not None:
                try:
                    release()
                except Exception:  # a holder's bug must not break the listener
                    log.exception("a lock holder's release callback failed")

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
