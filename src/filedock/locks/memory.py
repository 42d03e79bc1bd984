"""Readers-writer locks by name inside one process (the embedded default)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from filedock.errors import Code, FiledockError


@dataclass
class _State:
    readers: int = 0
    writer: bool = False
    waiting_writers: int = 0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)


class MemoryLocks:
    def __init__(self) -> None:
        self._states: dict[str, _State] = {}

    def _state(self, name: str) -> _State:
        return self._states.setdefault(name, _State())

    def _release_if_idle(self, name: str, state: _State) -> None:
        if not (state.readers or state.writer or state.waiting_writers):
            self._states.pop(name, None)

    @contextlib.asynccontextmanager
    async def shared(self, name: str, wait: float) -> AsyncIterator[None]:
        state = self._state(name)
        async with state.changed:
            await _wait(state.changed, lambda: not state.writer, wait)
            state.readers += 1
        try:
            yield
        finally:
            async with state.changed:
                state.readers -= 1
                state.changed.notify_all()
                self._release_if_idle(name, state)

    @contextlib.asynccontextmanager
    async def exclusive(self, name: str, wait: float) -> AsyncIterator[None]:
        state = self._state(name)
        async with state.changed:
            state.waiting_writers += 1
            try:
                await _wait(state.changed, lambda: not state.writer and not state.readers, wait)
            finally:
                state.waiting_writers -= 1
            state.writer = True
        try:
            yield
        finally:
            async with state.changed:
                state.writer = False
                state.changed.notify_all()
                self._release_if_idle(name, state)


async def _wait(condition: asyncio.Condition, predicate: Callable[[], bool], wait: float) -> None:
    try:
        await asyncio.wait_for(condition.wait_for(predicate), wait)
    except TimeoutError as exc:
        raise FiledockError(
            Code.UPLOAD_BUSY, f"The upload is held by another request for over {wait:g}s."
        ) from exc
