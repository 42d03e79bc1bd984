"""SFTP backend: every part is written at its offset into one remote staging file.

The layout under the remote root mirrors the local backend (`staging/`, `objects/`), and
so does completion: truncate to the final size, then an atomic `posix-rename@openssh.com`
into place, so assembling moves no byte. Each part is fsync'ed remotely
(`fsync@openssh.com`) before the core records it, when FILEDOCK_FSYNC is on.
"""

from __future__ import annotations

import contextlib
import posixpath
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import cast

import asyncssh

from filedock.core.models import Part
from filedock.errors import Code, FiledockError
from filedock.settings import Settings
from filedock.storage.base import Capabilities, Limits, ObjectInfo, PartInfo, batches, check_key
from filedock.storage.sftp_pool import DROPPED, Pool, SFTPTarget

WRITE_BATCH = 1024 * 1024  # asyncssh sends one batch as parallel SFTP writes
READ_BLOCK = 1024 * 1024
_FULL = (asyncssh.SFTPNoSpaceOnFilesystem, asyncssh.SFTPQuotaExceeded)
_UNREACHABLE: tuple[type[BaseException], ...] = (*DROPPED, asyncssh.Error, OSError, TimeoutError)


@contextlib.contextmanager
def sftp_errors(action: str, missing: Code = Code.STORAGE_UNAVAILABLE) -> Iterator[None]:
    """Translate SSH/SFTP errors into the error table; `missing` is what ENOENT means."""
    try:
        yield
    except asyncssh.SFTPNoSuchFile as exc:
        raise FiledockError(missing, f"SFTP could not {action}: {exc.reason}") from exc
    except _FULL as exc:
        raise FiledockError(Code.STORAGE_FULL, f"SFTP could not {action}: {exc.reason}") from exc
    except asyncssh.SFTPError as exc:
        raise FiledockError(
            Code.STORAGE_UNAVAILABLE, f"SFTP could not {action}: {exc.reason}"
        ) from exc
    except _UNREACHABLE as exc:
        raise FiledockError(Code.STORAGE_UNAVAILABLE, f"SFTP could not {action}: {exc}") from exc


class SFTPBackend:
    limits = Limits(min_part_size=1)
    capabilities = Capabilities(offset_writes=True, presigned_urls=False, server_side_concat=False)

    def __init__(self, target: SFTPTarget, *, fsync: bool = True) -> None:
        self.target = target
        self.fsync = fsync
        self.pool = Pool(target)
        self.staging = posixpath.join(target.root, "staging")
        self.objects = posixpath.join(target.root, "objects")
        self._prepared = False

    def _staged(self, key: str) -> str:
        return posixpath.join(self.staging, check_key(key).replace("/", "__"))

    def _object(self, key: str) -> str:
        return posixpath.join(self.objects, check_key(key))

    async def _prepare(self) -> None:
        """Create the two folders once per process (makedirs is idempotent)."""

        async def make(sftp: asyncssh.SFTPClient) -> None:
            for folder in (self.staging, self.objects):
                await sftp.makedirs(folder, exist_ok=True)

        if not self._prepared:
            await self.pool.run(make)
            self._prepared = True

    async def write_part(
        self, key: str, number: int, offset: int, body: AsyncIterator[bytes]
    ) -> PartInfo:
        path = self._staged(key)
        flags = asyncssh.FXF_WRITE | asyncssh.FXF_CREAT
        with sftp_errors("open the staging file"):
            await self._prepare()
            handle = await self.pool.run(lambda sftp: sftp.open(path, flags, encoding=None))
        size = 0
        try:
            with sftp_errors(f"write part {number}"):
                async for position, pieces in batches(body, WRITE_BATCH):
                    data = b"".join(pieces)
                    await handle.write(data, offset + position)
                    size = position + len(data)
                if self.fsync:
                    await handle.fsync()
        finally:
            with contextlib.suppress(*_UNREACHABLE):
                await handle.close()
        return PartInfo(number=number, size=size)

    async def list_parts(self, key: str) -> list[PartInfo]:
        """A sparse file cannot tell which ranges were written: the ledger is the truth."""
        return []

    async def compose(self, key: str, parts: Sequence[Part], dest: str) -> ObjectInfo:
        src, target = self._staged(key), self._object(dest)
        size = max((p.end for p in parts), default=0)

        async def finish(sftp: asyncssh.SFTPClient) -> None:
            if not await sftp.exists(src):
                if await sftp.exists(target) and (await sftp.stat(target)).size == size:
                    return  # a re-run after a completed compose
                raise FiledockError(Code.STAGED_DATA_LOST)
            await sftp.truncate(src, size)
            await sftp.makedirs(posixpath.dirname(target), exist_ok=True)
            await sftp.posix_rename(src, target)

        with sftp_errors("move the staged file into place"):
            await self.pool.run(finish)
        return ObjectInfo(key=dest, size=size)

    async def abort(self, key: str) -> None:
        path = self._staged(key)
        with sftp_errors("remove the staging file"):
            await self.pool.run(lambda sftp: _remove(sftp, path))

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        path = self._object(key)
        with sftp_errors("open the file", missing=Code.FILE_NOT_FOUND):
            handle = await self.pool.run(lambda sftp: sftp.open(path, "rb", encoding=None))
        try:
            position = start
            while end is None or position < end:
                want = READ_BLOCK if end is None else min(READ_BLOCK, end - position)
                with sftp_errors("read the file"):
                    block = cast(bytes, await handle.read(want, position))
                if not block:
                    break
                position += len(block)
                yield block
        finally:
            with contextlib.suppress(*_UNREACHABLE):
                await handle.close()

    async def stat(self, key: str) -> ObjectInfo:
        path = self._object(key)
        with sftp_errors("read the file's size", missing=Code.FILE_NOT_FOUND):
            attrs = await self.pool.run(lambda sftp: sftp.stat(path))
        return ObjectInfo(key=key, size=int(attrs.size or 0))

    async def delete(self, key: str) -> None:
        path = self._object(key)
        with sftp_errors("delete the file"):
            await self.pool.run(lambda sftp: _remove(sftp, path))

    async def check(self) -> None:
        """Connect, create the folders and prove a write, or say why not."""
        probe = posixpath.join(self.staging, ".filedock-probe")

        async def write_probe(sftp: asyncssh.SFTPClient) -> None:
            async with sftp.open(probe, "wb") as handle:
                await handle.write(b"probe")
            await sftp.remove(probe)

        try:
            with sftp_errors(f"use {self.target.describe()}"):
                self._prepared = False
                await self._prepare()
                await self.pool.run(write_probe)
        except FiledockError as exc:
            raise FiledockError(
                Code.STORAGE_UNAVAILABLE, f"Storage is unusable: {exc.message}"
            ) from exc

    async def close(self) -> None:
        await self.pool.close()


async def _remove(sftp: asyncssh.SFTPClient, path: str) -> None:
    with contextlib.suppress(asyncssh.SFTPNoSuchFile):
        await sftp.remove(path)


def open_sftp(url: str, settings: Settings) -> SFTPBackend:
    return SFTPBackend(SFTPTarget.parse(url, settings), fsync=settings.fsync)
