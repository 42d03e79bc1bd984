"""The storage contract every backend fulfils, and the limits it declares once.

A backend receives a part as an async byte stream and puts it straight where it belongs
(at its offset in one staging object, or as a multipart part), so completing an upload
never copies bytes: `compose` only makes the staged object final.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

from filedock.core.models import Part
from filedock.errors import Code, FiledockError

MiB = 1024 * 1024
GiB = 1024 * MiB

_KEY = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_.-]+)*$")


@dataclass(frozen=True)
class Limits:
    """What sizes of part the backend accepts; chunk sizes are clamped to these."""

    min_part_size: int = 1
    max_part_size: int = 5 * GiB
    max_parts: int = 10_000


@dataclass(frozen=True)
class Capabilities:
    """Decided once at start-up; protocol features and download strategy derive from it."""

    offset_writes: bool
    presigned_urls: bool
    server_side_concat: bool


@dataclass(frozen=True)
class PartInfo:
    number: int
    size: int
    etag: str | None = None


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int


class Backend(Protocol):
    limits: Limits
    capabilities: Capabilities

    async def write_part(
        self, key: str, number: int, offset: int, body: AsyncIterator[bytes]
    ) -> PartInfo:
        """Stream `body` durably into part `number` (at byte `offset`) of staged `key`."""
        ...

    async def list_parts(self, key: str) -> list[PartInfo]:
        """What the backend really holds for `key`, to reconcile the ledger after a crash."""
        ...

    async def compose(self, key: str, parts: Sequence[Part], dest: str) -> ObjectInfo:
        """Make the staged parts of `key` the object `dest`, without copying bytes.

        The returned key is where the object is: `dest`, or the backend's own name for it
        when it cannot rename (S3 completes a multipart upload at the upload's key).
        Idempotent: called again after a crash that followed a successful compose, it
        returns the existing object.
        """
        ...

    async def abort(self, key: str) -> None:
        """Free everything staged under `key`; no error if nothing is there."""
        ...

    def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Stream bytes [start, end) of a final object."""
        ...

    async def stat(self, key: str) -> ObjectInfo: ...

    async def delete(self, key: str) -> None: ...

    async def check(self) -> None:
        """Raise FiledockError(STORAGE_UNAVAILABLE) when the backend cannot be used."""
        ...

    async def close(self) -> None: ...


class PartCopier(Protocol):
    """Optional, offered when `capabilities.server_side_concat`: parts from other uploads.

    Concatenation (tus parallel uploads) builds one upload from finished others; the bytes
    never pass through filedock. Local disk uses copy_file_range, which shares extents
    (a reflink, no copy) on filesystems that can (XFS, Btrfs) and copies inside the kernel
    elsewhere (ext4); S3 would use UploadPartCopy.
    """

    async def copy_part(
        self, source: str, size: int, key: str, number: int, offset: int
    ) -> PartInfo:
        """Make bytes [0, size) staged under `source` part `number` (at `offset`) of `key`.

        Durable when it returns, like write_part; the source is left as it was.
        """
        ...


def part_copier(backend: Backend) -> PartCopier | None:
    """The backend as a PartCopier if its capabilities say it is one, else None."""
    if not backend.capabilities.server_side_concat:
        return None
    return cast(PartCopier, backend)


class Presigner(Protocol):
    """Optional, offered when `capabilities.presigned_urls`: downloads served by the store."""

    async def presign(
        self, key: str, expires: int, disposition: str, content_type: str | None = None
    ) -> str:
        """A GET URL for `key` valid `expires` seconds, answered with the Content-Disposition
        `disposition` (RFC 6266, built by the caller) so the file's name survives."""
        ...


def presigner(backend: Backend) -> Presigner | None:
    """The backend as a Presigner if its capabilities say it is one, else None."""
    return cast(Presigner, backend) if backend.capabilities.presigned_urls else None


async def batches(body: AsyncIterator[bytes], size: int) -> AsyncIterator[tuple[int, list[bytes]]]:
    """Group a body's pieces into writes of about `size` bytes, each with its position.

    Offset-writing backends (local, SFTP) issue one write per batch instead of one per
    network read, without joining the pieces on the way.
    """
    batch: list[bytes] = []
    batched = position = 0
    async for piece in body:
        batch.append(piece)
        batched += len(piece)
        if batched >= size:
            yield position, batch
            position += batched
            batch, batched = [], 0
    if batch:
        yield position, batch


def check_key(key: str) -> str:
    """Keys are built by filedock from ids, never from user input; refuse anything else."""
    if not _KEY.match(key) or ".." in key:
        raise ValueError(f"invalid storage key {key!r}")
    return key


def storage_full(exc: OSError) -> FiledockError:
    return FiledockError(Code.STORAGE_FULL, f"The storage has no space left: {exc.strerror}.")
