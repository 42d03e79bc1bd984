"""One part's bytes in an unnamed temporary file, for stores that must know a part's size
and checksum before its first byte is sent (S3 needs Content-Length, and Content-MD5 is
what makes the store verify the part).

The file is opened with O_TMPFILE semantics (`tempfile.TemporaryFile`): it has no name,
so a crash cannot leave it behind, and it is bounded by the part's size limit, which the
core enforces while metering the body. Memory use stays at one write batch.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import IO

from filedock.storage.base import storage_full

BATCH = 1024 * 1024


class Spool:
    """`async with Spool(dir) as spool: await spool.fill(body); send(spool.rewind())`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.size = 0
        self._md5 = hashlib.md5()
        self._file: IO[bytes] | None = None

    async def __aenter__(self) -> Spool:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._file = await asyncio.to_thread(tempfile.TemporaryFile, dir=self.directory)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._file is not None:
            self._file.close()

    async def fill(self, chunks: AsyncIterator[bytes]) -> int:
        """Append every chunk; returns how many bytes this call added."""
        added = 0
        batch: list[bytes] = []
        batched = 0
        async for chunk in chunks:
            batch.append(chunk)
            batched += len(chunk)
            if batched >= BATCH:
                await asyncio.to_thread(self._write, batch)
                added += batched
                batch, batched = [], 0
        if batch:
            await asyncio.to_thread(self._write, batch)
            added += batched
        return added

    def _write(self, pieces: list[bytes]) -> None:
        assert self._file is not None
        try:
            for piece in pieces:
                self._file.write(piece)
                self._md5.update(piece)
                self.size += len(piece)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise storage_full(exc) from exc
            raise

    @property
    def md5(self) -> bytes:
        return self._md5.digest()

    def rewind(self) -> IO[bytes]:
        """The file, flushed and positioned at its start, ready to be sent."""
        assert self._file is not None
        self._file.flush()
        self._file.seek(0, os.SEEK_SET)
        return self._file
