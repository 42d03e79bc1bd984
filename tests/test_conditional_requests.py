"""RFC 9110 on downloads (preconditions, Last-Modified, interrupted downloads logged as
such) and document 001's Content-Range on a chunk PUT, checked against the upload."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import create, upload_file
from tests.realserver import ServerProcess

DATA = bytes(range(256)) * 40  # 10240 bytes
PAST = format_datetime(datetime(2000, 1, 1, tzinfo=UTC), usegmt=True)
FUTURE = format_datetime(datetime.now(UTC) + timedelta(days=1), usegmt=True)


@pytest.fixture
async def stored(client: httpx.AsyncClient) -> dict[str, Any]:
    record = await upload_file(client, DATA)
    url = f"/api/v1/files/{record['id']}/content"
    head = await client.head(url)
    return {"url": url, "etag": head.headers["etag"], "modified": head.headers["last-modified"]}


# (request headers, status); {etag} and {modified} are the file's own values.
CASES = [
    ({"If-Match": "{etag}"}, 200),
    ({"If-Match": '"other", {etag}'}, 200),
    ({"If-Match": "*"}, 200),
    ({"If-Match": '"other"'}, 412),
    ({"If-Match": "W/{etag}"}, 412),  # If-Match compares strongly
    ({"If-Unmodified-Since": "{modified}"}, 200),
    ({"If-Unmodified-Since": FUTURE}, 200),
    ({"If-Unmodified-Since": PAST}, 412),
    ({"If-Unmodified-Since": "not a date"}, 200),  # ignored, as RFC 9110 says
    ({"If-Match": "{etag}", "If-Unmodified-Since": PAST}, 200),  # If-Match wins
    ({"If-None-Match": "{etag}"}, 304),
    ({"If-None-Match": "W/{etag}"}, 304),
    ({"If-None-Match": '"other"'}, 200),
    ({"If-Modified-Since": "{modified}"}, 304),
    ({"If-Modified-Since": FUTURE}, 304),
    ({"If-Modified-Since": PAST}, 200),
    ({"If-None-Match": '"other"', "If-Modified-Since": FUTURE}, 200),  # If-None-Match wins
    ({"If-Match": '"other"', "If-None-Match": "{etag}"}, 412),  # 412 is decided first
    ({"If-Modified-Since": PAST, "Range": "bytes=0-9"}, 206),
    ({"If-Unmodified-Since": PAST, "Range": "bytes=0-9"}, 412),
]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize(("headers", "status"), CASES)
async def test_preconditions(
    client: httpx.AsyncClient,
    stored: dict[str, Any],
    method: str,
    headers: dict[str, str],
    status: int,
) -> None:
    sent = {name: value.format(**stored) for name, value in headers.items()}
    response = await client.request(method, stored["url"], headers=sent)
    assert response.status_code == status, response.text
    if status == 412 and method == "GET":
        assert response.json()["code"] == "precondition_failed"
    if status in (200, 206, 304):
        assert response.headers["etag"] == stored["etag"]
        assert response.headers["last-modified"] == stored["modified"]
    if status == 200 and method == "GET":
        assert response.content == DATA
    if status == 304:
        assert response.content == b""


async def test_last_modified_is_when_the_file_was_made(
    client: httpx.AsyncClient, stored: dict[str, Any]
) -> None:
    made = parsedate_to_datetime(stored["modified"])
    assert timedelta(0) <= datetime.now(UTC) - made < timedelta(minutes=1)


CHUNK = 4096
# Content-Range of chunk 1 of a 10240-byte upload in chunks of 4096: bytes 4096-8191.
RANGES = [
    ("bytes 4096-8191/10240", 200, None),
    ("bytes 4096-8191/*", 200, None),
    ("bytes 0-4095/10240", 416, "content_range_mismatch"),
    ("bytes 4096-8190/10240", 416, "content_range_mismatch"),
    ("bytes 4096-8191/9999", 409, "size_mismatch"),
    ("bytes 4096-8191", 400, "invalid_header"),
    ("items 4096-8191/10240", 400, "invalid_header"),
    ("bytes 8191-4096/10240", 400, "invalid_header"),
    ("bytes " + "9" * 40 + "-8191/10240", 400, "invalid_header"),
]


@pytest.mark.parametrize(("header", "status", "code"), RANGES)
async def test_a_chunk_content_range_must_agree_with_the_upload(
    client: httpx.AsyncClient, header: str, status: int, code: str | None
) -> None:
    upload = await create(client, DATA, chunk_size=CHUNK)
    url = f"/api/v1/uploads/{upload['id']}/chunks/1"
    response = await client.put(
        url, content=DATA[CHUNK : 2 * CHUNK], headers={"Content-Range": header}
    )
    assert response.status_code == status, response.text
    state = (await client.get(f"/api/v1/uploads/{upload['id']}")).json()
    if code is None:
        assert state["received_chunks"] == [1]
    else:
        assert response.json()["code"] == code
        assert state["received_chunks"] == []


async def test_the_last_chunk_content_range_is_its_short_length(client: httpx.AsyncClient) -> None:
    upload = await create(client, DATA, chunk_size=CHUNK)
    url = f"/api/v1/uploads/{upload['id']}/chunks/2"
    last = DATA[2 * CHUNK :]
    response = await client.put(
        url, content=last, headers={"Content-Range": "bytes 8192-10239/10240"}
    )
    assert response.status_code == 200, response.text


@pytest.mark.server
def test_an_interrupted_download_is_logged_as_interrupted(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", FILEDOCK_LOG_LEVEL="INFO", FILEDOCK_FSYNC="false")
    server.start()
    try:
        size = 32 * 1024 * 1024
        with httpx.Client(base_url=server.url, timeout=30) as http:
            upload = http.post("/api/v1/uploads", json={"filename": "big", "size": size}).json()
            piece = b"\0" * upload["chunk_size"]
            for index in range(upload["chunk_count"]):
                chunk = piece[: min(len(piece), size - index * len(piece))]
                http.put(f"/api/v1/uploads/{upload['id']}/chunks/{index}", content=chunk)
            file = http.post(f"/api/v1/uploads/{upload['id']}/complete").json()
            url = f"/api/v1/files/{file['id']}/content"
            with http.stream("GET", url) as response:
                assert response.status_code == 200
                next(response.iter_raw(65536))  # then hang up
            assert http.get(url, headers={"Range": "bytes=0-9"}).status_code == 206
    finally:
        server.stop()
    lines = [line for line in server.log.read_text().splitlines() if url in line]
    assert len(lines) == 2, lines
    interrupted, complete = lines
    assert re.search(rf"GET {url} 200 interrupted .* bytes_sent=\d+", interrupted), interrupted
    sent = int(interrupted.rsplit("bytes_sent=", 1)[1].split()[0])
    assert 0 < sent < size
    assert f"GET {url} 206 " in complete and "interrupted" not in complete
