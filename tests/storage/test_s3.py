"""What only the S3 backend does: settings, start-up checks, Content-MD5, small appends
held in a tail object, one multipart upload per key, completion errors, presigned URLs."""

from __future__ import annotations

import base64
import hashlib
import os
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from filedock.core.models import Part
from filedock.errors import Code, FiledockError
from filedock.settings import Settings
from filedock.storage.registry import open_storage
from filedock.storage.s3 import S3Backend, S3Location
from tests.storage.conftest import MiB, leftovers, storage_settings, stream
from tests.storage.contract import keys, read_all, sample, write


@pytest.fixture
async def s3(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[S3Backend]:
    storage = open_storage(storage_settings("s3", request, tmp_path)).backend
    assert isinstance(storage, S3Backend)
    await storage.check()
    yield storage
    await storage.close()


def test_url_parameters_override_settings(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path,
        s3_endpoint_url="http://minio:9000",
        s3_region="eu-west-1",
    )
    where = S3Location.parse("s3://bucket/a/b/?region=us-west-2&addressing_style=path", settings)
    assert (where.bucket, where.prefix) == ("bucket", "a/b/")
    assert (where.endpoint_url, where.region, where.addressing_style) == (
        "http://minio:9000",
        "us-west-2",
        "path",
    )
    assert S3Location.parse("s3://bucket", settings).prefix == ""
    with pytest.raises(ValueError, match="unknown s3 parameters"):
        S3Location.parse("s3://bucket/x?endpoint_url=http://x", settings)
    with pytest.raises(ValueError, match="bucket"):
        S3Location.parse("s3:///x", settings)


async def test_check_creates_a_missing_bucket(s3_base_url: str, tmp_path: Path) -> None:
    if "endpoint=" not in s3_base_url or "FILEDOCK_TEST_S3_URL" in os.environ:
        pytest.skip("creates buckets: only against the test's own moto server")
    endpoint = s3_base_url.split("endpoint=")[1]
    bucket = f"fresh-{os.urandom(4).hex()}"
    url = f"s3://{bucket}/p?endpoint={endpoint}"
    settings = Settings(_env_file=None, data_dir=tmp_path, storage_url=url)  # type: ignore[call-arg]
    storage = open_storage(settings).backend
    try:
        await storage.check()
        await storage.check()  # the bucket now exists: still fine
    finally:
        await storage.close()
    refused = settings.model_copy(update={"storage_url": url.replace(bucket, f"{bucket}-no")})
    refused.s3_create_bucket = False
    storage = open_storage(refused).backend
    try:
        with pytest.raises(FiledockError) as unusable:
            await storage.check()
    finally:
        await storage.close()
    assert unusable.value.code == Code.STORAGE_UNAVAILABLE
    assert f"{bucket}-no" in unusable.value.message


async def test_check_names_an_unreachable_endpoint(tmp_path: Path) -> None:
    url = "s3://bucket/p?endpoint=http://127.0.0.1:9"
    settings = Settings(_env_file=None, data_dir=tmp_path, storage_url=url)  # type: ignore[call-arg]
    storage = open_storage(settings).backend
    try:
        with pytest.raises(FiledockError) as unusable:
            await storage.check()
    finally:
        await storage.close()
    assert unusable.value.code == Code.STORAGE_UNAVAILABLE
    assert "s3://bucket/p/ at http://127.0.0.1:9" in unusable.value.message


async def test_each_part_carries_its_content_md5(s3: S3Backend) -> None:
    sent: list[tuple[str, int]] = []
    client = await s3._client()

    def capture(request: Any, **_: Any) -> None:
        md5 = request.headers["Content-MD5"]
        md5 = md5.decode() if isinstance(md5, bytes) else md5
        sent.append((md5, int(request.headers["Content-Length"])))

    client.meta.events.register("before-send.s3.UploadPart", capture)
    try:
        data = os.urandom(5 * MiB + 10)
        key, _dest = keys()
        await s3.write_part(key, 0, 0, stream(data))
    finally:
        client.meta.events.unregister("before-send.s3.UploadPart", capture)
    expected = base64.b64encode(hashlib.md5(data).digest()).decode()
    assert sent == [(expected, len(data))]


async def test_small_appends_wait_in_a_bounded_tail(s3: S3Backend) -> None:
    """tus-style: many PATCHes of any size, in order; only full parts reach the upload."""
    data = os.urandom(13 * MiB + 777)
    sizes = [300_000, 1 * MiB, 2 * MiB, 7 * MiB, 1, 100_000]
    sizes.append(len(data) - sum(sizes))
    key, dest = keys()
    parts: list[Part] = []
    offset = 0
    for number, size in enumerate(sizes):
        info = await s3.write_part(key, number, offset, stream(data[offset : offset + size]))
        assert info.size == size
        parts.append(Part(number, offset, size, info.etag))
        offset += size
        for tail in await s3.staging.tails(key):
            assert tail.size < s3.limits.min_part_size
    held = await s3.list_parts(key)
    assert all(p.size >= s3.limits.min_part_size for p in held)
    info = await s3.compose(key, parts, dest)
    assert await read_all(s3, info.key) == data
    assert await leftovers(s3) == []


async def test_the_tail_survives_a_restart(s3: S3Backend) -> None:
    """The tail is an object, not process memory: another process carries on."""
    data = os.urandom(6 * MiB)
    key, dest = keys()
    first = await s3.write_part(key, 0, 0, stream(data[:1000]))
    restarted = S3Backend(s3.location, s3.spool_dir)
    try:
        second = await restarted.write_part(key, 1, 1000, stream(data[1000:]))
        parts = [Part(0, 0, 1000, first.etag), Part(1, 1000, len(data) - 1000, second.etag)]
        info = await restarted.compose(key, parts, dest)
        assert await read_all(restarted, info.key) == data
    finally:
        await restarted.close()


async def test_a_lost_answer_after_a_flush_is_resent_safely(s3: S3Backend) -> None:
    """The tail went out inside a part but the core never recorded it (a crash); the client
    resends from the recorded offset, in other pieces: the file is still right."""
    data = os.urandom(9 * MiB)
    key, dest = keys()
    first = await s3.write_part(key, 0, 0, stream(data[: 3 * MiB]))
    await s3.write_part(key, 1, 3 * MiB, stream(data[3 * MiB : 9 * MiB]))  # not recorded
    second = await s3.write_part(key, 1, 3 * MiB, stream(data[3 * MiB : 4 * MiB]))
    third = await s3.write_part(key, 2, 4 * MiB, stream(data[4 * MiB :]))
    parts = [
        Part(0, 0, 3 * MiB, first.etag),
        Part(1, 3 * MiB, 1 * MiB, second.etag),
        Part(2, 4 * MiB, 5 * MiB, third.etag),
    ]
    info = await s3.compose(key, parts, dest)
    assert await read_all(s3, info.key) == data


async def test_writers_converge_on_one_multipart_upload(s3: S3Backend) -> None:
    """Two multipart uploads for one key (two replicas started it at once): every part
    ends up in the canonical one and completion removes the other."""
    key, dest = keys()
    name = s3._name(key)
    client = await s3._client()
    for _ in range(2):
        await client.create_multipart_upload(Bucket=s3.bucket, Key=name)
    data = os.urandom(10 * MiB + 5)
    chunks = [(0, 0, 5 * MiB), (1, 5 * MiB, 5 * MiB), (2, 10 * MiB, 5)]
    random.Random(3).shuffle(chunks)
    parts = []
    for number, offset, size in chunks:
        info = await s3.write_part(key, number, offset, stream(data[offset : offset + size]))
        parts.append(Part(number, offset, size, info.etag))
    info = await s3.compose(key, parts, dest)
    assert await read_all(s3, info.key) == data
    assert await leftovers(s3) == []


async def test_parts_that_differ_from_the_ledger_are_refused(s3: S3Backend) -> None:
    key, dest = keys()
    data = os.urandom(5 * MiB)
    info = await s3.write_part(key, 0, 0, stream(data))
    with pytest.raises(FiledockError) as lost:
        await s3.compose(key, [Part(0, 0, len(data), '"0000"')], dest)
    assert lost.value.code == Code.STAGED_DATA_LOST
    done = await s3.compose(key, [Part(0, 0, len(data), info.etag)], dest)
    assert await read_all(s3, done.key) == data


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    async def read(self) -> bytes:
        return self.body


ERROR_200 = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>'
    b"<Message>We encountered an internal error. Please try again.</Message></Error>"
)


async def test_a_200_answer_with_an_error_inside_is_an_error(s3: S3Backend) -> None:
    """CompleteMultipartUpload can fail after S3 sent 200: the body holds the error."""
    from aiobotocore.awsrequest import AioAWSResponse

    client = await s3._client()
    key, dest = keys()
    data = os.urandom(5 * MiB + 1)
    first = await s3.write_part(key, 0, 0, stream(data[: 5 * MiB]))
    last = await s3.write_part(key, 1, 5 * MiB, stream(data[5 * MiB :]))
    parts = [Part(0, 0, 5 * MiB, first.etag), Part(1, 5 * MiB, 1, last.etag)]
    answers: list[str] = []

    def fail(request: Any, **_: Any) -> AioAWSResponse:
        answers.append(request.url)
        return AioAWSResponse(request.url, 200, {}, _Raw(ERROR_200))

    client.meta.events.register("before-send.s3.CompleteMultipartUpload", fail)
    try:
        with pytest.raises(FiledockError) as failed:
            await s3.compose(key, parts, dest)
    finally:
        client.meta.events.unregister("before-send.s3.CompleteMultipartUpload", fail)
    assert "InternalError" in failed.value.message
    assert len(answers) > 1  # retried as the 500 it really is
    done = await s3.compose(key, parts, dest)  # nothing was lost: completing again works
    assert await read_all(s3, done.key) == data


async def test_presigned_url_keeps_the_name(s3: S3Backend) -> None:
    data = os.urandom(1000)
    key, dest = keys()
    info = await s3.write_part(key, 0, 0, stream(data))
    done = await s3.compose(key, [Part(0, 0, len(data), info.etag)], dest)
    disposition = "attachment; filename=\"r_sum_.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt"
    url = await s3.presign(done.key, 60, disposition, "text/plain")
    async with httpx.AsyncClient() as http:
        got = await http.get(url)
    assert got.status_code == 200
    assert got.content == data
    assert got.headers["content-disposition"] == disposition


async def test_listed_parts_are_the_parts_that_were_written(s3: S3Backend) -> None:
    """S3 offers a PartLister (to reconcile the ledger after a crash): what it lists are
    the parts written, by number and size."""
    lister = s3.bundle().lister
    assert lister is not None
    data, size = sample(s3)
    key, _dest = keys()
    written = {n: await write(s3, key, data, size, n) for n in range(3)}
    held = await lister.list_parts(key)
    assert sorted(p.number for p in held) == [0, 1, 2]
    assert all(p.size == written[p.number].size for p in held)
