"""Tenant quotas over tus: a deferred-length upload stopped at the quota, then finished."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.helpers import set_limits
from tests.tus.conftest import OCTET, Tus, metadata

KiB = 1024


async def _streamed(data: bytes, piece: int = 8 * KiB) -> AsyncIterator[bytes]:
    """A body without Content-Length (chunked): its size is only known as it arrives."""
    for start in range(0, len(data), piece):
        yield data[start : start + piece]


async def _offset(tus: Tus, path: str) -> int:
    head = await tus.head(path)
    assert head.status_code == 200
    return int(head.headers["Upload-Offset"])


@pytest.mark.parametrize("length_known", [True, False], ids=["content-length", "chunked"])
async def test_a_deferred_upload_crossing_the_quota_stops_and_resumes_once_raised(
    app: FastAPI, client: httpx.AsyncClient, tus: Tus, length_known: bool
) -> None:
    data = os.urandom(160 * KiB)
    await set_limits(app, max_bytes=100 * KiB)
    path = await tus.new(upload_defer_length="1")
    assert (await tus.patch(path, 0, data[: 60 * KiB])).status_code == 204

    rest = data[60 * KiB :]
    headers = {**OCTET, "Upload-Offset": str(60 * KiB)}
    body = rest if length_known else _streamed(rest)
    refused = await client.patch(path, headers=headers, content=body)
    assert refused.status_code == 413, refused.text
    assert refused.text.startswith("quota_exceeded:") and f"({40 * KiB} would)" in refused.text
    assert await _offset(tus, path) == 60 * KiB  # nothing of the refused body was kept

    await set_limits(app, max_bytes=1024 * KiB)
    too_long = await tus.patch(path, 60 * KiB, b"", upload_length=str(2048 * KiB))
    assert too_long.status_code == 413  # a length declared late is checked like at creation
    done = await tus.patch(path, 60 * KiB, rest, upload_length=str(len(data)))
    assert done.status_code == 204, done.text
    assert done.headers["Upload-Offset"] == str(len(data))
    download = await client.get(path)
    assert download.status_code == 200 and download.content == data


async def test_tus_creation_checks_the_quota_and_the_declared_type(
    app: FastAPI, client: httpx.AsyncClient, tus: Tus
) -> None:
    await set_limits(app, max_bytes=100 * KiB, allowed_types=("image/*",))
    over = await tus.create(101 * KiB)
    assert over.status_code == 413 and over.text.startswith("quota_exceeded:")
    described = metadata(filename="a.pdf", filetype="application/pdf")
    pdf = await tus.create(10, upload_metadata=described)
    assert pdf.status_code == 415 and pdf.text.startswith("type_not_allowed:")
    png = await tus.create(10, upload_metadata=metadata(filename="a.png", filetype="image/png"))
    assert png.status_code == 201
    usage = (await client.get("/api/v1/usage")).json()
    assert (usage["uploads"], usage["staged_bytes"]) == (1, 10)


async def test_concatenating_partials_does_not_count_their_bytes_twice(
    app: FastAPI, client: httpx.AsyncClient, tus: Tus
) -> None:
    """Parallel pieces near the quota: the final upload takes over what they hold."""
    pieces = [os.urandom(40 * KiB), os.urandom(40 * KiB)]
    paths = [await tus.upload(piece, upload_concat="partial") for piece in pieces]
    await set_limits(app, max_bytes=100 * KiB, max_files=2)
    answer = await tus.create(upload_concat="final;" + " ".join(paths))
    assert answer.status_code == 201, answer.text
    assert (await client.get(answer.headers["Location"])).content == b"".join(pieces)
    usage = (await client.get("/api/v1/usage")).json()
    assert (usage["files"], usage["file_bytes"], usage["uploads"]) == (1, 80 * KiB, 0)
