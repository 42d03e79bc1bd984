"""S3-compatible backend (AWS S3, MinIO, Ceph RGW...): each part is one multipart part.

Completion is CompleteMultipartUpload, which S3 assembles without moving a byte through
filedock. The final object is the multipart upload's own key, so `compose` returns that
key rather than `dest` (S3 cannot rename). For the same reason `abort` only ever removes
what is staged (multipart uploads, tails), never the object at that key: the assembler
aborts an upload after completing it.

Client (aiobotocore), settings and errors: s3_client.py. Where an upload's bytes wait
until completion: s3_staging.py.

Each part is spooled to an unnamed temporary file first (see spool.py): S3 needs the
part's length up front (no chunked uploads), and sending its Content-MD5 makes S3
verify every part. The spool holds one part at most, on disk, never in memory.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from filedock.core.models import Part
from filedock.errors import Code, FiledockError
from filedock.settings import Settings
from filedock.storage.base import (
    Capabilities,
    GiB,
    Limits,
    MiB,
    ObjectInfo,
    PartInfo,
    check_key,
)
from filedock.storage.s3_client import Client, S3Location, new_client, s3_errors, unavailable
from filedock.storage.s3_staging import Plan, Staging, plan, verify
from filedock.storage.spool import Spool

READ_BLOCK = 1024 * 1024


class S3Backend:
    """Objects at `{prefix}{key}`; tails of unfinished parts under `{prefix}staging/`."""

    limits = Limits(min_part_size=5 * MiB, max_part_size=5 * GiB, max_parts=10_000)
    capabilities = Capabilities(offset_writes=False, presigned_urls=True, server_side_concat=False)

    def __init__(self, location: S3Location, spool_dir: Path) -> None:
        self.location = location
        self.bucket = location.bucket
        self.spool_dir = spool_dir
        self.staging = Staging(self._client, self.bucket, f"{location.prefix}staging/")
        self._stack = contextlib.AsyncExitStack()
        self._made: Client | None = None
        self._making = asyncio.Lock()

    async def _client(self) -> Client:
        """The client, made on first use: it needs a running loop and a session."""
        if self._made is None:
            async with self._making:
                if self._made is None:
                    self._made = await self._stack.enter_async_context(new_client(self.location))
        return self._made

    def _name(self, key: str) -> str:
        return self.location.prefix + check_key(key)

    # writing -----------------------------------------------------------------------
    async def write_part(
        self, key: str, number: int, offset: int, body: AsyncIterator[bytes]
    ) -> PartInfo:
        if number + 1 > self.limits.max_parts:
            raise FiledockError(
                Code.FILE_TOO_LARGE,
                f"S3 holds at most {self.limits.max_parts} parts per upload; "
                "send the rest in larger pieces.",
            )
        check_key(key)
        with s3_errors("list the staged tail"):
            tails = await self.staging.tails(key)
        base = next((t for t in tails if t.start <= offset <= t.end), None)
        start = base.start if base is not None else offset
        async with Spool(self.spool_dir) as spool:
            if base is not None and offset > base.start:
                await spool.fill(self._read(base.name, 0, offset - base.start))
            kept = spool.size
            await spool.fill(body)
            if spool.size < self.limits.min_part_size:
                await self._put_tail(self.staging.tail_name(key, start), spool)
                etag = None
                # other tails: sent inside a part the core has since recorded, or beyond
                stale = [t for t in tails if t.start != start and not t.start <= offset <= t.end]
            else:
                etag = await self._upload_part(self._name(key), number + 1, spool)
                stale = [t for t in tails if t.end < offset]
        with s3_errors("delete a superseded tail"):
            await self.staging.delete([t.name for t in stale])
        return PartInfo(number=number, size=spool.size - kept, etag=etag)

    async def _put_tail(self, name: str, spool: Spool) -> None:
        client = await self._client()
        with s3_errors("store the tail of a part"):
            await client.put_object(
                Bucket=self.bucket,
                Key=name,
                Body=spool.rewind(),
                ContentLength=spool.size,
                ContentMD5=base64.b64encode(spool.md5).decode(),
            )

    async def _upload_part(self, name: str, part_number: int, spool: Spool) -> str:
        """Send the spooled part to the canonical multipart upload, re-sending it there if
        another writer's upload turned out to be the canonical one."""
        client = await self._client()
        md5 = base64.b64encode(spool.md5).decode()
        for _attempt in range(3):
            with s3_errors("find the multipart upload"):
                upload_id = await self.staging.upload_id(name)
            try:
                with s3_errors(f"upload part {part_number}"):
                    sent = await client.upload_part(
                        Bucket=self.bucket,
                        Key=name,
                        UploadId=upload_id,
                        PartNumber=part_number,
                        Body=spool.rewind(),
                        ContentLength=spool.size,
                        ContentMD5=md5,
                    )
                with s3_errors("find the multipart upload"):
                    if (await self.staging.upload_ids(name))[:1] == [upload_id]:
                        return str(sent["ETag"])
            except FiledockError as exc:
                if exc.code != Code.STAGED_DATA_LOST:  # NoSuchUpload: a duplicate was aborted
                    raise
        raise FiledockError(
            Code.STORAGE_UNAVAILABLE, f"S3 kept changing the multipart upload of {name}."
        )

    async def list_parts(self, key: str) -> list[PartInfo]:
        """The parts S3 holds (as ledger numbers); bytes still in a tail are not parts."""
        name = self._name(key)
        with s3_errors("list the parts"):
            ids = await self.staging.upload_ids(name)
            listed = await self.staging.listed_parts(name, ids[0]) if ids else {}
        return [
            PartInfo(number=number - 1, size=size, etag=etag)
            for number, (etag, size) in sorted(listed.items())
        ]

    # completing --------------------------------------------------------------------
    async def compose(self, key: str, parts: Sequence[Part], dest: str) -> ObjectInfo:
        """CompleteMultipartUpload of the parts the ledger names; idempotent."""
        name, wanted = self._name(key), plan(parts)
        client = await self._client()
        if wanted.total == 0:
            with s3_errors("store an empty object"):
                await client.put_object(Bucket=self.bucket, Key=name, Body=b"")
        elif await self._size(name) != wanted.total:  # else a re-run after a completion
            with s3_errors("find the multipart upload"):
                upload_id = await self._staged_upload(name, wanted)
                listed = await self.staging.listed_parts(name, upload_id)
            verify(wanted, listed)
            chosen = [(s.number, s.etag) for s in wanted.segments]
            if wanted.tail_start < wanted.total:
                chosen.append((wanted.tail_number, await self._send_tail(key, upload_id, wanted)))
            await self._complete(name, upload_id, chosen)
        size = await self._size(name)
        if size != wanted.total:
            raise FiledockError(
                Code.ASSEMBLY_FAILED, f"S3 assembled {size} bytes, not {wanted.total}."
            )
        with s3_errors("clean up the staged parts"):
            await self.staging.discard(name, check_key(key))
        return ObjectInfo(key=key, size=wanted.total)

    async def _staged_upload(self, name: str, wanted: Plan) -> str:
        """The multipart upload holding the parts; made now if every byte is in the tail."""
        ids = await self.staging.upload_ids(name)
        if ids:
            return ids[0]
        if wanted.segments:
            raise FiledockError(Code.STAGED_DATA_LOST, f"S3 has no multipart upload for {name}.")
        return await self.staging.upload_id(name)

    async def _send_tail(self, key: str, upload_id: str, wanted: Plan) -> str:
        """Upload the tail's bytes [tail_start, total) as the last part (under 5 MiB)."""
        with s3_errors("list the staged tail"):
            tails = await self.staging.tails(key)
        need = wanted.total - wanted.tail_start
        tail = next((t for t in tails if t.start == wanted.tail_start and t.size >= need), None)
        if tail is None:
            raise FiledockError(
                Code.STAGED_DATA_LOST,
                f"The last {need} bytes of {key} are no longer staged; send them again.",
            )
        client = await self._client()
        async with Spool(self.spool_dir) as spool:
            await spool.fill(self._read(tail.name, 0, need))
            with s3_errors("upload the last part"):
                sent = await client.upload_part(
                    Bucket=self.bucket,
                    Key=self._name(key),
                    UploadId=upload_id,
                    PartNumber=wanted.tail_number,
                    Body=spool.rewind(),
                    ContentLength=spool.size,
                    ContentMD5=base64.b64encode(spool.md5).decode(),
                )
        return str(sent["ETag"])

    async def _complete(self, name: str, upload_id: str, chosen: list[tuple[int, str]]) -> None:
        """CompleteMultipartUpload. S3 may answer 200 with an <Error> body: botocore turns
        that into an error (and retries it); a reply without the new object's ETag is
        refused too, and the caller checks the object's size afterwards."""
        client = await self._client()
        with s3_errors("complete the multipart upload"):
            done = await client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=name,
                UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in chosen]},
            )
        if not done.get("ETag") or "Error" in done:
            raise FiledockError(
                Code.ASSEMBLY_FAILED, f"S3 did not confirm completing {name}: {done!r:.300}"
            )

    async def abort(self, key: str) -> None:
        with s3_errors("abort the multipart upload"):
            await self.staging.discard(self._name(key), check_key(key))

    # reading -----------------------------------------------------------------------
    async def _size(self, name: str) -> int | None:
        client = await self._client()
        try:
            with s3_errors("read the object's size", missing=Code.FILE_NOT_FOUND):
                head = await client.head_object(Bucket=self.bucket, Key=name)
        except FiledockError as exc:
            if exc.code == Code.FILE_NOT_FOUND:
                return None
            raise
        return int(head["ContentLength"])

    async def _read(self, name: str, start: int, end: int | None) -> AsyncIterator[bytes]:
        if end is not None and end <= start:
            return
        client = await self._client()
        wanted = f"bytes={start}-{'' if end is None else end - 1}"
        try:
            with s3_errors("read the object", missing=Code.FILE_NOT_FOUND):
                got = await client.get_object(Bucket=self.bucket, Key=name, Range=wanted)
        except FiledockError as exc:
            if exc.code == Code.RANGE_NOT_SATISFIABLE:
                return  # the range starts at or after the end: no bytes, as on disk
            raise
        async with got["Body"] as stream:
            with s3_errors("read the object"):
                async for block in stream.iter_chunks(READ_BLOCK):
                    yield block

    def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        return self._read(self._name(key), start, end)

    async def stat(self, key: str) -> ObjectInfo:
        size = await self._size(self._name(key))
        if size is None:
            raise FiledockError(Code.FILE_NOT_FOUND, "The file's bytes are missing.")
        return ObjectInfo(key=key, size=size)

    async def delete(self, key: str) -> None:
        client = await self._client()
        with s3_errors("delete the object"):
            await client.delete_object(Bucket=self.bucket, Key=self._name(key))

    async def presign(
        self, key: str, expires: int, disposition: str, content_type: str | None = None
    ) -> str:
        """A GET URL valid `expires` seconds; S3 answers with `disposition` (RFC 6266),
        so the file's name survives the redirect."""
        client = await self._client()
        params = {"Bucket": self.bucket, "Key": self._name(key)}
        params["ResponseContentDisposition"] = disposition
        if content_type:
            params["ResponseContentType"] = content_type
        with s3_errors("sign a download URL"):
            url = await client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=expires
            )
        return str(url)

    # lifecycle ---------------------------------------------------------------------
    async def check(self) -> None:
        """Reach the bucket (creating it when allowed) and prove we can write to it."""
        client = await self._client()
        where = self.location.describe()
        try:
            with s3_errors(f"reach {where}", missing=Code.FILE_NOT_FOUND):
                await client.head_bucket(Bucket=self.bucket)
        except FiledockError as exc:
            if exc.code != Code.FILE_NOT_FOUND or not self.location.create_bucket:
                raise unavailable(where, exc) from exc
            await self._create_bucket(where)
        probe = f"{self.location.prefix}staging/.filedock-probe"
        try:
            with s3_errors(f"write to {where}"):
                await client.put_object(Bucket=self.bucket, Key=probe, Body=b"")
                await client.delete_object(Bucket=self.bucket, Key=probe)
        except FiledockError as exc:
            raise unavailable(where, exc) from exc

    async def _create_bucket(self, where: str) -> None:
        client = await self._client()
        region = self.location.region
        extra = {}
        if region and region != "us-east-1":
            extra["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            with s3_errors(f"create the bucket of {where}"):
                await client.create_bucket(Bucket=self.bucket, **extra)
        except FiledockError as exc:
            raise unavailable(where, exc) from exc

    async def close(self) -> None:
        await self._stack.aclose()
        self._made = None


def open_s3(url: str, settings: Settings) -> S3Backend:
    return S3Backend(S3Location.parse(url, settings), settings.data_dir / "spool")
