"""Every tus extension over HTTP: creation-with-upload, defer-length, expiration, checksum,
termination and concatenation."""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from filedock.settings import Settings
from tests.tus.conftest import OCTET, TUS, Tus, app_client, metadata


def _id(path: str) -> str:
    return path.rsplit("/", 1)[1]


def _checksum(name: str, data: bytes) -> str:
    return f"{name} {base64.b64encode(hashlib.new(name, data).digest()).decode()}"


async def _files(client: httpx.AsyncClient) -> int:
    total: int = (await client.get("/api/v1/files")).json()["total"]
    return total


# creation-with-upload --------------------------------------------------------------------
async def test_creation_with_upload_keeps_the_body(tus: Tus, client: httpx.AsyncClient) -> None:
    headers = {**OCTET, "Upload-Length": "10"}
    answer = await client.post("/files/", headers=headers, content=b"hello")
    assert answer.status_code == 201
    assert answer.headers["Upload-Offset"] == "5"
    path = httpx.URL(answer.headers["Location"]).path
    assert (await tus.patch(path, 5, b"world")).headers["Upload-Offset"] == "10"
    assert (await client.get(path)).content == b"helloworld"


async def test_creation_with_the_whole_upload_makes_the_file(client: httpx.AsyncClient) -> None:
    headers = {**OCTET, "Upload-Length": "5", "Upload-Checksum": _checksum("sha1", b"hello")}
    answer = await client.post("/files/", headers=headers, content=b"hello")
    assert answer.status_code == 201 and answer.headers["Upload-Offset"] == "5"
    assert (await client.get(answer.headers["Location"])).content == b"hello"


async def test_an_empty_file_is_finished_at_creation(tus: Tus, client: httpx.AsyncClient) -> None:
    path = await tus.new(0, upload_metadata=metadata(filename="empty.txt"))
    assert (await tus.head(path)).headers["Upload-Offset"] == "0"
    download = await client.get(path)
    assert download.status_code == 200 and download.content == b""


# creation-defer-length ------------------------------------------------------------------
async def test_deferred_length_is_set_by_a_later_patch(tus: Tus, client: httpx.AsyncClient) -> None:
    path = await tus.new(upload_defer_length="1")
    head = await tus.head(path)
    assert head.headers["Upload-Defer-Length"] == "1" and "Upload-Length" not in head.headers
    assert (await tus.patch(path, 0, b"abc")).status_code == 204
    answer = await tus.patch(path, 3, b"def", upload_length="9")
    assert answer.status_code == 204 and answer.headers["Upload-Offset"] == "6"
    head = await tus.head(path)
    assert head.headers["Upload-Length"] == "9" and "Upload-Defer-Length" not in head.headers
    assert (await tus.patch(path, 6, b"ghi")).status_code == 204
    assert (await client.get(path)).content == b"abcdefghi"


async def test_a_deferred_length_cannot_change_or_undercut(tus: Tus) -> None:
    path = await tus.new(upload_defer_length="1")
    assert (await tus.patch(path, 0, b"abcd")).status_code == 204
    assert (await tus.patch(path, 4, b"", upload_length="3")).status_code == 400
    assert (await tus.patch(path, 4, b"e", upload_length="6")).status_code == 204
    assert (await tus.patch(path, 5, b"f", upload_length="7")).status_code == 400
    assert (await tus.patch(path, 5, b"f", upload_length="6")).status_code == 204


async def test_a_deferred_upload_over_the_maximum_is_413(tus: Tus) -> None:
    path = await tus.new(upload_defer_length="1")
    too_big = str(64 * 1024 * 1024 + 1)
    assert (await tus.patch(path, 0, b"a", upload_length=too_big)).status_code == 413


# expiration --------------------------------------------------------------------------------
async def test_expired_uploads_are_410(tus: Tus, app: FastAPI) -> None:
    path = await tus.new(10)
    answer = await tus.patch(path, 0, b"abc")
    assert answer.headers["Upload-Expires"].endswith("GMT")
    past = datetime.now(UTC) - timedelta(seconds=1)
    await app.state.services.repo.touch_upload(_id(path), past)
    assert (await tus.head(path)).status_code == 410
    assert (await tus.patch(path, 3, b"d")).status_code == 410
    await app.state.services.uploads.expire_idle()
    assert (await tus.head(path)).status_code == 410


# checksum ----------------------------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ["md5", "sha1", "sha256"])
async def test_a_matching_checksum_is_accepted(tus: Tus, algorithm: str) -> None:
    path = await tus.new(6)
    answer = await tus.patch(path, 0, b"abc", upload_checksum=_checksum(algorithm, b"abc"))
    assert answer.status_code == 204 and answer.headers["Upload-Offset"] == "3"


async def test_a_checksum_mismatch_is_460_and_writes_nothing(
    tus: Tus, client: httpx.AsyncClient
) -> None:
    path = await tus.new(6)
    assert (await tus.patch(path, 0, b"abc")).status_code == 204
    wrong = await tus.patch(path, 3, b"xyz", upload_checksum=_checksum("sha1", b"def"))
    assert wrong.status_code == 460
    assert (await tus.head(path)).headers["Upload-Offset"] == "3"
    right = await tus.patch(path, 3, b"def", upload_checksum=_checksum("sha1", b"def"))
    assert right.status_code == 204
    assert (await client.get(path)).content == b"abcdef"


@pytest.mark.parametrize(
    "checksum", ["crc32 AAAAAA==", "sha1 not*base64", "sha1 YWJj", "SHA1 " + "A" * 28, "sha1"]
)
async def test_an_unusable_checksum_header_is_400(tus: Tus, checksum: str) -> None:
    path = await tus.new(3)
    assert (await tus.patch(path, 0, b"abc", upload_checksum=checksum)).status_code == 400
    assert (await tus.head(path)).headers["Upload-Offset"] == "0"


# termination ---------------------------------------------------------------------------
async def test_terminating_an_unfinished_upload_frees_it(tus: Tus) -> None:
    path = await tus.new(10)
    assert (await tus.patch(path, 0, b"abc")).status_code == 204
    answer = await tus.http.delete(path, headers=TUS)
    assert answer.status_code == 204 and answer.headers["Tus-Resumable"] == "1.0.0"
    assert (await tus.head(path)).status_code == 410
    assert (await tus.patch(path, 3, b"d")).status_code == 410
    assert (await tus.http.delete(path, headers=TUS)).status_code == 410


async def test_terminating_a_finished_upload_deletes_its_file(
    tus: Tus, client: httpx.AsyncClient
) -> None:
    path = await tus.upload(b"done")
    assert await _files(client) == 1
    assert (await tus.http.delete(path, headers=TUS)).status_code == 204
    assert await _files(client) == 0
    assert (await tus.head(path)).status_code == 410
    assert (await client.get(path)).status_code == 410


# concatenation -------------------------------------------------------------------------
async def _partial(tus: Tus, data: bytes, send: bool = True) -> str:
    path = await tus.new(len(data), upload_concat="partial")
    if send:
        assert (await tus.patch(path, 0, data)).status_code == 204
    return path


async def test_partials_concatenate_into_one_file(tus: Tus, client: httpx.AsyncClient) -> None:
    pieces = [os.urandom(n) for n in (70_000, 1, 0, 123_457)]
    paths = [await _partial(tus, piece) for piece in pieces]
    assert await _files(client) == 0  # a full partial upload is not a file
    head = await tus.head(paths[0])
    assert head.headers["Upload-Concat"] == "partial"
    assert head.headers["Upload-Offset"] == "70000"
    concat = "final;" + " ".join([paths[0], f"http://filedock.test{paths[1]}", *paths[2:]])
    answer = await tus.create(upload_concat=concat, upload_metadata=metadata(filename="all.bin"))
    assert answer.status_code == 201, answer.text
    final = httpx.URL(answer.headers["Location"]).path
    head = await tus.head(final)
    assert head.headers["Upload-Concat"] == concat
    assert head.headers["Upload-Offset"] == head.headers["Upload-Length"] == str(193_458)
    download = await client.get(final)
    assert download.content == b"".join(pieces)
    assert 'filename="all.bin"' in download.headers["Content-Disposition"]
    assert await _files(client) == 1
    assert (await tus.head(paths[0])).status_code == 410  # pieces are freed once assembled


async def test_patching_a_final_upload_is_403(tus: Tus) -> None:
    part = await _partial(tus, b"abc")
    final = await tus.new(upload_concat=f"final;{part}")
    assert (await tus.patch(final, 3, b"d")).status_code == 403


async def test_a_partial_upload_that_is_not_finished_cannot_be_concatenated(tus: Tus) -> None:
    done, unfinished = await _partial(tus, b"abc"), await _partial(tus, b"def", send=False)
    answer = await tus.create(upload_concat=f"final;{done} {unfinished}")
    assert answer.status_code == 400 and "not a finished piece" in answer.text
    assert (await tus.head(done)).status_code == 200  # nothing was consumed


async def test_concatenation_names_existing_partial_uploads(tus: Tus) -> None:
    part = await _partial(tus, b"abc")
    missing = "/files/0123456789abcdef0123456789abcdef"
    assert (await tus.create(upload_concat=f"final;{part} {missing}")).status_code == 404
    assert (await tus.create(upload_concat=f"final;{part}", upload_length="3")).status_code == 400


async def test_a_final_upload_over_the_maximum_is_413(settings: Settings) -> None:
    async with app_client(settings, tus_max_size=10) as client:
        tus = Tus(client)
        parts = [await _partial(tus, b"123456"), await _partial(tus, b"789012")]
        answer = await tus.create(upload_concat="final;" + " ".join(parts))
        assert answer.status_code == 413
        assert (await tus.head(parts[0])).status_code == 200


async def test_only_partial_uploads_can_be_concatenated(tus: Tus) -> None:
    plain = await tus.upload(b"abc")  # already a file: not a piece to build another from
    assert (await tus.create(upload_concat=f"final;{plain}")).status_code == 400
