"""The storage contract: what every backend must do, run unchanged on each of them.

Part sizes follow the backend's declared limits (S3 wants 5 MiB parts except the last),
and the final object is read back from the key `compose` returns.
"""

from __future__ import annotations

import asyncio
import os
import random
import uuid

import pytest

from filedock.core.models import Part
from filedock.errors import Code, FiledockError
from filedock.storage.base import Backend
from tests.storage.conftest import leftovers, stream

KiB = 1024


def keys() -> tuple[str, str]:
    name = uuid.uuid4().hex
    return f"uploads/{name}", f"files/{name}"


def part_size(storage: Backend) -> int:
    return max(storage.limits.min_part_size, 256 * KiB)


async def write(storage: Backend, key: str, data: bytes, size: int, number: int) -> Part:
    offset = number * size
    info = await storage.write_part(key, number, offset, stream(data[offset : offset + size]))
    assert info.number == number
    return Part(number=number, offset=offset, size=info.size, etag=info.etag)


async def read_all(storage: Backend, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([block async for block in storage.read(key, start, end)])


def sample(storage: Backend, full_parts: int = 3, tail: int = 1234) -> tuple[bytes, int]:
    size = part_size(storage)
    return os.urandom(full_parts * size + tail), size


class Contract:
    """Every storage backend passes these, on a real server."""

    async def test_parts_in_any_order_compose_into_the_file(self, backend: Backend) -> None:
        data, size = sample(backend)
        key, dest = keys()
        numbers = list(range(4))
        random.Random(5).shuffle(numbers)
        parts = [await write(backend, key, data, size, n) for n in numbers]
        info = await backend.compose(key, parts, dest)
        assert info.size == len(data)
        assert await read_all(backend, info.key) == data
        assert (await backend.stat(info.key)).size == len(data)
        assert await leftovers(backend) == []

    async def test_parts_written_in_parallel(self, backend: Backend) -> None:
        data, size = sample(backend, full_parts=4, tail=1)
        key, dest = keys()
        parts = await asyncio.gather(*(write(backend, key, data, size, n) for n in range(5)))
        info = await backend.compose(key, parts, dest)
        assert await read_all(backend, info.key) == data

    async def test_rewriting_a_part_replaces_it(self, backend: Backend) -> None:
        data, size = sample(backend)
        key, dest = keys()
        garbage = os.urandom(len(data))
        for n in range(4):
            await write(backend, key, garbage, size, n)
        parts = [await write(backend, key, data, size, n) for n in (2, 0, 3, 1)]
        info = await backend.compose(key, parts, dest)
        assert await read_all(backend, info.key) == data

    async def test_compose_again_returns_the_same_object(self, backend: Backend) -> None:
        data, size = sample(backend, full_parts=1)
        key, dest = keys()
        parts = [await write(backend, key, data, size, n) for n in range(2)]
        first = await backend.compose(key, parts, dest)
        again = await backend.compose(key, parts, dest)
        assert again == first
        assert await read_all(backend, again.key) == data

    async def test_abort_frees_everything_staged(self, backend: Backend) -> None:
        data, size = sample(backend, full_parts=1)
        key, dest = keys()
        parts = [await write(backend, key, data, size, n) for n in range(2)]
        assert await leftovers(backend) != []
        await backend.abort(key)
        await backend.abort(key)  # nothing there any more: still fine
        assert await leftovers(backend) == []
        with pytest.raises(FiledockError) as lost:
            await backend.compose(key, parts, dest)
        assert lost.value.code == Code.STAGED_DATA_LOST

    async def test_read_ranges(self, backend: Backend) -> None:
        data, size = sample(backend, full_parts=1, tail=5000)
        key, dest = keys()
        info = await backend.compose(
            key, [await write(backend, key, data, size, n) for n in range(2)], dest
        )
        total = len(data)
        for start, end in [(0, None), (0, 1), (10, 20), (size - 3, size + 3), (total - 1, None)]:
            assert await read_all(backend, info.key, start, end) == data[start:end]
        assert await read_all(backend, info.key, total, None) == b""
        assert await read_all(backend, info.key, 7, 7) == b""

    async def test_empty_file(self, backend: Backend) -> None:
        key, dest = keys()
        info = await backend.write_part(key, 0, 0, stream(b""))
        assert info.size == 0
        composed = await backend.compose(key, [Part(0, 0, 0, info.etag)], dest)
        assert composed.size == 0
        assert await read_all(backend, composed.key) == b""
        assert await leftovers(backend) == []

    async def test_delete(self, backend: Backend) -> None:
        data, size = sample(backend, full_parts=0)
        key, dest = keys()
        info = await backend.compose(key, [await write(backend, key, data, size, 0)], dest)
        await backend.delete(info.key)
        await backend.delete(info.key)  # already gone: still fine
        with pytest.raises(FiledockError) as missing:
            await backend.stat(info.key)
        assert missing.value.code == Code.FILE_NOT_FOUND

    async def test_missing_keys(self, backend: Backend) -> None:
        key, dest = keys()
        for probe in (backend.stat(dest), read_all(backend, dest)):
            with pytest.raises(FiledockError) as missing:
                await probe
            assert missing.value.code == Code.FILE_NOT_FOUND
        with pytest.raises(FiledockError) as lost:
            await backend.compose(key, [Part(0, 0, 10, None)], dest)
        assert lost.value.code == Code.STAGED_DATA_LOST

    async def test_check_passes(self, backend: Backend) -> None:
        await backend.check()
