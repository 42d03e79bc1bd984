"""Local-disk backend: every part is written at its offset into one sparse staging file.

Completion is fsync + atomic rename into place, so assembling a 10 GiB upload moves no
bytes. Parts are fdatasync'ed before the core records them in the ledger, which is what
makes "recorded" mean "on disk" after a crash.
"""

from __future__ import annotations

import asyncio
import errno
import os
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from filedock.core.models import Part
from filedock.errors import Code, FiledockError
from filedock.storage.base import (
    Capabilities,
    Limits,
    ObjectInfo,
    PartInfo,
    batches,
    check_key,
    storage_full,
)

WRITE_BATCH = 1024 * 1024
READ_BLOCK = 1024 * 1024
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def _pwrite_all(fd: int, pieces: list[bytes], offset: int) -> int:
    """Write every piece at `offset`; pwritev may write less than asked, so loop."""
    total = sum(len(p) for p in pieces)
    written = os.pwritev(fd, pieces, offset)
    if written < total:
        rest = b"".join(pieces)[written:]
        view = memoryview(rest)
        while view:
            n = os.pwrite(fd, view, offset + written)
            written += n
            view = view[n:]
    return total


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalBackend:
    """Files under `root`: `staging/` for uploads in progress, `objects/` for files."""

    limits = Limits(min_part_size=1)
    capabilities = Capabilities(offset_writes=True, presigned_urls=False, server_side_concat=True)

    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = root
        self.fsync = fsync
        self.staging = root / "staging"
        self.objects = root / "objects"
        self.staging.mkdir(parents=True, exist_ok=True)
        self.objects.mkdir(parents=True, exist_ok=True)

    def _staged(self, key: str) -> Path:
        return self.staging / check_key(key).replace("/", "__")

    def _object(self, key: str) -> Path:
        return self.objects / check_key(key)

    async def write_part(
        self, key: str, number: int, offset: int, body: AsyncIterator[bytes]
    ) -> PartInfo:
        path = self._staged(key)
        try:
            fd = await asyncio.to_thread(os.open, path, os.O_WRONLY | os.O_CREAT, 0o600)
        except OSError as exc:
            raise self._translate(exc) from exc
        size = 0
        try:
            async for position, pieces in batches(body, WRITE_BATCH):
                size = position + await asyncio.to_thread(
                    _pwrite_all, fd, pieces, offset + position
                )
            if self.fsync:
                await asyncio.to_thread(os.fdatasync, fd)
        except OSError as exc:
            raise self._translate(exc) from exc
        finally:
            os.close(fd)
        return PartInfo(number=number, size=size)

    async def list_parts(self, key: str) -> list[PartInfo]:
        """A sparse file cannot tell which ranges were written: the ledger is the truth."""
        return []

    async def compose(self, key: str, parts: Sequence[Part], dest: str) -> ObjectInfo:
        src, target = self._staged(key), self._object(dest)
        size = max((p.end for p in parts), default=0)
        return await asyncio.to_thread(self._compose_sync, src, target, dest, size)

    def _compose_sync(self, src: Path, target: Path, dest: str, size: int) -> ObjectInfo:
        if not src.exists():
            if target.exists() and target.stat().st_size == size:
                return ObjectInfo(key=dest, size=size)  # a re-run after a completed compose
            raise FiledockError(Code.STAGED_DATA_LOST)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(src, os.O_WRONLY)
            try:
                os.ftruncate(fd, size)
                if self.fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(src, target)
            if self.fsync:
                _fsync_dir(target.parent)
        except OSError as exc:
            raise self._translate(exc) from exc
        return ObjectInfo(key=dest, size=size)

    async def copy_part(
        self, source: str, size: int, key: str, number: int, offset: int
    ) -> PartInfo:
        """copy_file_range in a thread: a reflink where the filesystem shares extents."""
        src, dest = self._staged(source), self._staged(key)
        try:
            await asyncio.to_thread(self._copy_sync, src, dest, size, offset)
        except OSError as exc:
            raise self._translate(exc) from exc
        return PartInfo(number=number, size=size)

    def _copy_sync(self, src: Path, dest: Path, size: int, offset: int) -> None:
        out = os.open(dest, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            if size:
                try:
                    source = os.open(src, os.O_RDONLY)
                except FileNotFoundError as exc:
                    raise FiledockError(Code.STAGED_DATA_LOST) from exc
                try:
                    copied = 0
                    while copied < size:
                        n = os.copy_file_range(source, out, size - copied, copied, offset + copied)
                        if n == 0:
                            raise FiledockError(Code.STAGED_DATA_LOST)
                        copied += n
                finally:
                    os.close(source)
            if self.fsync:
                os.fdatasync(out)
        finally:
            os.close(out)

    async def abort(self, key: str) -> None:
        await asyncio.to_thread(self._staged(key).unlink, missing_ok=True)

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        path = self._object(key)
        try:
            handle = await asyncio.to_thread(open, path, "rb", buffering=0)
        except FileNotFoundError as exc:
            raise FiledockError(Code.FILE_NOT_FOUND, "The file's bytes are missing.") from exc
        try:
            position = start
            while end is None or position < end:
                want = READ_BLOCK if end is None else min(READ_BLOCK, end - position)
                block = await asyncio.to_thread(os.pread, handle.fileno(), want, position)
                if not block:
                    break
                position += len(block)
                yield block
        finally:
            handle.close()

    async def stat(self, key: str) -> ObjectInfo:
        try:
            st = await asyncio.to_thread(os.stat, self._object(key))
        except FileNotFoundError as exc:
            raise FiledockError(Code.FILE_NOT_FOUND, "The file's bytes are missing.") from exc
        return ObjectInfo(key=key, size=st.st_size)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._object(key).unlink, missing_ok=True)

    async def check(self) -> None:
        if not (os.access(self.staging, os.W_OK) and os.access(self.objects, os.W_OK)):
            raise FiledockError(Code.STORAGE_UNAVAILABLE, f"{self.root} is not writable.")

    async def close(self) -> None:
        return None

    @staticmethod
    def _translate(exc: OSError) -> Exception:
        if exc.errno in _NO_SPACE:
            return storage_full(exc)
        return exc
