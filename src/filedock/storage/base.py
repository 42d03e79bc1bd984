"""The storage contract every backend fulfils, and the limits it declares once.

A backend receives a part as an async byte stream and puts it straight where it belongs
(at its offset in one staging object, or as a multipart part), so completing an upload
never copies bytes: `compose` only makes the staged object final.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

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
class PartInfo:
    number: int
    size: int
    etag: str | None = None


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int


class Backend(Protocol):
    """What every backend does; what only some can do is in the optional protocols below,
    offered through the Storage bundle each backend builds once when it is opened."""

    limits: Limits

    async def write_part(
        self, key: str, number: int, offset: int, body: AsyncIterator[bytes]
    ) -> PartInfo:
        """Stream `body` durably into part `number` (at byte `offset`) of staged `key`."""
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
    """Optional (local disk): parts made from other uploads' staged bytes.

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


class Presigner(Protocol):
    """Optional (S3): downloads served by the object store itself."""

    async def presign(
        self, key: str, expires: int, disposition: str, content_type: str | None = None
    ) -> str:
        """A GET URL for `key` valid `expires` seconds, answered with the Content-Disposition
        `disposition` (RFC 6266, built by the caller) so the file's name survives."""
        ...


class PartLister(Protocol):
    """Optional (S3): what the store really holds of a staged upload, part by part.

    A sparse file (local disk, SFTP) cannot tell which ranges were written, so only a
    store with real parts offers this; the ledger is the truth everywhere else.
    """

    async def list_parts(self, key: str) -> list[PartInfo]: ...


@dataclass(frozen=True)
class Storage:
    """A backend and the optional capabilities it offers, fixed when it is opened.

    Built once by each backend (`Storage(self, signer=self)`), so what a backend can do is
    a typed object the checker sees, never a flag cast at request time; protocol
    extensions (tus concatenation) and the download strategy are derived from it.
    """

    backend: Backend
    copier: PartCopier | None = None
    signer: Presigner | None = None
    lister: PartLister | None = None


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
