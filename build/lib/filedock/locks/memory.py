"""Readers-writer locks by name inside one process (the embedded default)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from filedock.errors import Code, FiledockError
from filedock.locks.base import Release

log = logging.getLogger("filedock.locks")


@dataclass
class _State:
    readers: int = 0
    writer: bool = False
    waiting_writers: int = 0
    release: Release | None = None  # the exclusive holder's "please let go"
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def ask_holder(self) -> None:
        """Ask the exclusive holder (once) to let go; it releases when its work stops."""
        release, self.release = self.release, None
        if release is not None:
            try:
                release()
            except Exception:  # a holder's bug must not break the waiter
                log.exception("a lock holder's release callback failed")


class MemoryLocks:
    def __init__(self) -> None:
        self._states: dict[str, _State] = {}
        self._claims: dict[str, float] = {}

    def _state(self, name: str) -> _State:
        return self._states.setdefault(name, _State())

    def _release_if_idle(self, name: str, state: _State) -> None:
        if not (state.readers or state.writer or state.waiting_writers):
            self._states.pop(name, None)

    @contextlib.asynccontextmanager
    async def shared(self, name: str, wait: float) -> AsyncIterator[None]:
        state = self._state(name)
        async with state.changed:
            await _wait(state, lambda: not state.writer, wait)
            state.readers += 1
        try:
            yield
        finally:
            async with state.changed:
                state.readers -= 1
                state.changed.notify_all()
                self._release_if_idle(name, state)

    @contextlib.asynccontextmanager
    async def exclusive(
        self, name: str, wait: float, on_release: Release | None = None
    ) -> AsyncIterator[None]:
        state = self._state(name)
        async with state.changed:
            state.waiting_writers += 1
            try:
                await _wait(state, lambda: not state.writer and not state.readers, wait)
            finally:
                state.waiting_writers -= 1
            state.writer, state.release = True, on_release
        try:
            yield
        finally:
            async with state.changed:
                state.writer, state.release = False, None
                state.changed.notify_all()
                self._release_if_idle(name, state)

    async def claim(self, name: str, seconds: float) -> bool:
        now = time.monotonic()
        self._claims = {n: until for n, until in self._claims.items() if until > now}
        if name in self._claims:
            return False
        self._claims[name] = now + seconds
        return True


async def _wait(state: _State, predicate: Callable[[], bool], wait: float) -> None:
    if not predicate():
        state.ask_holder()
    try:
        await asyncio.wait_for(state.changed.wait_for(predicate), wait)
    except TimeoutError as exc:
        raise FiledockError(
            Code.UPLOAD_BUSY, f"The upload is held by another request for over {wait:g}s."
        ) from exc
