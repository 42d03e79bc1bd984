"""Where an S3 upload's bytes wait until CompleteMultipartUpload, with no side file.

* The multipart upload of an object is found by its key (ListMultipartUploads), never
  kept in a backend-side `.info` file. Two writers that start the same upload at once
  may each create one; every writer then picks the same canonical one (oldest, then
  smallest id) and re-sends its part there if it wrote elsewhere, and completion or
  abort removes the others.
* Bytes that do not fill a 5 MiB part yet (a tus PATCH, the last chunk) wait in one
  small *tail* object, named by the offset it starts at. A later write at the tail's end
  is sent together with it as one part. A tail that has been sent inside a part is kept
  until a write beyond it proves the core recorded that part, so a crash between the
  two never loses the tail's bytes.
* `plan` turns the ledger's parts into the CompleteMultipartUpload list: a ledger part
  with an ETag is the S3 part number+1 covering everything since the previous such part;
  ledger parts without one are still in the tail.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from filedock.core.models import Part
from filedock.errors import Code, FiledockError
from filedock.storage.s3_client import Client


@dataclass(frozen=True)
class Tail:
    name: str
    start: int
    size: int

    @property
    def end(self) -> int:
        return self.start + self.size


@dataclass(frozen=True)
class Segment:
    """One S3 part of the final object: part number, expected ETag, byte range."""

    number: int
    etag: str
    start: int
    end: int


@dataclass(frozen=True)
class Plan:
    segments: list[Segment]
    tail_start: int  # the tail must hold [tail_start, total); nothing when equal
    tail_number: int
    total: int


def plan(parts: Sequence[Part]) -> Plan:
    """The S3 parts (and the tail range) that make up the object the ledger describes."""
    segments: list[Segment] = []
    start = 0
    for part in sorted(parts, key=lambda p: p.offset):
        if part.etag is not None:
            segments.append(Segment(part.number + 1, part.etag, start, part.end))
            start = part.end
    total = max((p.end for p in parts), default=0)
    last = max((p.number for p in parts), default=-1)
    return Plan(segments, tail_start=start, tail_number=last + 1, total=total)


class Staging:
    """Multipart uploads and tail objects of one bucket."""

    def __init__(self, client: Callable[[], Awaitable[Client]], bucket: str, root: str) -> None:
        self._client = client
        self.bucket = bucket
        self.root = root  # tails of key K live under f"{root}{K}/"
        self._creating: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    # multipart uploads -------------------------------------------------------------
    async def upload_ids(self, name: str) -> list[str]:
        """Ids of the multipart uploads of object `name`, the canonical one first."""
        client = await self._client()
        found: list[tuple[Any, str]] = []
        pages = client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket, Prefix=name
        )
        async for page in pages:
            for upload in page.get("Uploads", []):
                if upload["Key"] == name:
                    found.append((upload.get("Initiated"), upload["UploadId"]))
        found.sort(key=lambda item: (item[0] is None, item[0] or 0, item[1]))
        return [upload_id for _initiated, upload_id in found]

    async def upload_id(self, name: str) -> str:
        """The canonical multipart upload of `name`, created when there is none."""
        ids = await self.upload_ids(name)
        if ids:
            return ids[0]
        lock = self._creating.get(name)
        if lock is None:
            lock = self._creating[name] = asyncio.Lock()
        async with lock:  # one creation per key in this process; replicas may still race
            ids = await self.upload_ids(name)
            if not ids:
                client = await self._client()
                await client.create_multipart_upload(Bucket=self.bucket, Key=name)
                ids = await self.upload_ids(name)
        return ids[0]

    async def listed_parts(self, name: str, upload_id: str) -> dict[int, tuple[str, int]]:
        """{part number: (ETag, size)} as S3 holds them."""
        client = await self._client()
        listed: dict[int, tuple[str, int]] = {}
        pages = client.get_paginator("list_parts").paginate(
            Bucket=self.bucket, Key=name, UploadId=upload_id
        )
        async for page in pages:
            for part in page.get("Parts", []):
                listed[int(part["PartNumber"])] = (str(part["ETag"]), int(part["Size"]))
        return listed

    # tails -------------------------------------------------------------------------
    def tail_name(self, key: str, start: int) -> str:
        return f"{self.root}{key}/{start:020d}"

    async def tails(self, key: str) -> list[Tail]:
        client = await self._client()
        prefix = f"{self.root}{key}/"
        found: list[Tail] = []
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        async for page in pages:
            for item in page.get("Contents", []):
                offset = item["Key"][len(prefix) :]
                if offset.isdigit():
                    found.append(Tail(item["Key"], int(offset), int(item["Size"])))
        return sorted(found, key=lambda t: t.start)

    async def delete(self, names: Sequence[str]) -> None:
        client = await self._client()
        for name in names:
            await client.delete_object(Bucket=self.bucket, Key=name)

    async def discard(self, name: str, key: str) -> None:
        """Abort every multipart upload of `name` and delete the tails of `key`."""
        client = await self._client()
        for upload_id in await self.upload_ids(name):
            await client.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
        await self.delete([tail.name for tail in await self.tails(key)])


def verify(plan: Plan, listed: dict[int, tuple[str, int]]) -> None:
    """Every segment the ledger names must be in S3 with the same ETag and size."""
    for segment in plan.segments:
        held = listed.get(segment.number)
        if held is None or held != (segment.etag, segment.end - segment.start):
            raise FiledockError(
                Code.STAGED_DATA_LOST,
                f"S3 part {segment.number} does not hold bytes {segment.start}-"
                f"{segment.end - 1} as recorded; send that chunk again.",
                part_number=segment.number,
            )
