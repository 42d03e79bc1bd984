"""Hostile input against a real server: every number, header, metadata and form field is
bounded, and answers a clear 4xx instead of a 500 or a silent acceptance."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.realserver import ServerProcess

pytestmark = pytest.mark.server

HUGE = str(10**30)
DIGITS = "9" * 16_000  # more than int() converts (4300), less than the header bound
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("hostile") / "data")
    process.start()
    yield process
    process.stop()
    assert "Traceback" not in process.log.read_text(), process.log.read_text()[-4000:]


@pytest.fixture(scope="module")
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def stored(http: httpx.Client) -> dict[str, str]:
    """A finished native file and a finished tus upload, to download with hostile Ranges."""
    upload = http.post("/api/v1/uploads", json={"filename": "a.bin", "size": 10}).json()
    assert http.put(f"/api/v1/uploads/{upload['id']}/chunks/0", content=b"0123456789").is_success
    file = http.post(f"/api/v1/uploads/{upload['id']}/complete").json()
    created = http.post("/files/", headers={"Tus-Resumable": "1.0.0", "Upload-Length": "4"})
    tus = created.headers["location"]
    patched = http.patch(
        tus,
        content=b"abcd",
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert patched.status_code == 204, patched.text
    return {"file": f"/api/v1/files/{file['id']}/content", "tus": tus, "upload": upload["id"]}


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"offset": HUGE}, 422),
        ({"limit": HUGE}, 422),
        ({"offset": "-1"}, 422),
        ({"offset": str(2**62)}, 200),
    ],
)
def test_listing_numbers_are_bounded(
    http: httpx.Client, query: dict[str, str], status: int
) -> None:
    response = http.get("/api/v1/files", params=query)
    assert response.status_code == status, response.text
    if status == 200:
        assert response.json()["items"] == []


@pytest.mark.parametrize(
    ("target", "method"), [("file", "GET"), ("file", "HEAD"), ("tus", "GET")]
)  # a tus HEAD is the offset query, not a download
@pytest.mark.parametrize(
    ("spec", "status"),
    [
        (f"bytes={DIGITS}-", 416),
        (f"bytes=0-{DIGITS}", 206),
        (f"bytes=-{DIGITS}", 206),
        ("bytes=" + "9" * 65536 + "-", 431),
    ],
    ids=["huge-first", "huge-last", "huge-suffix", "65536-digits"],
)
def test_huge_range_numbers(
    http: httpx.Client, stored: dict[str, str], target: str, method: str, spec: str, status: int
) -> None:
    response = http.request(method, stored[target], headers={"Range": spec})
    assert response.status_code == status, response.text
    if status == 206 and method == "GET":
        assert response.content == (b"0123456789" if target == "file" else b"abcd")


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Big": "a" * MiB},
        {f"X-Many-{n}": "1" for n in range(10_000)},
        {f"X-Some-{n}": "1" for n in range(101)},
    ],
    ids=["1MiB-header", "10000-headers", "101-headers"],
)
def test_too_large_or_too_many_headers_get_431(http: httpx.Client, headers: dict[str, str]) -> None:
    try:
        response = http.get("/api/v1/files", headers=headers)
    except httpx.RemoteProtocolError:  # the server may also close the connection
        pytest.fail("the server closed the connection instead of answering 431")
    assert response.status_code == 431, response.text
    assert response.json()["code"] == "headers_too_large"


@pytest.mark.parametrize("size", [20 * 1024, MiB])
def test_tus_metadata_is_bounded(http: httpx.Client, size: int) -> None:
    value = base64.b64encode(b"x" * size).decode()
    response = http.post(
        "/files/",
        headers={"Tus-Resumable": "1.0.0", "Upload-Length": "4", "Upload-Metadata": f"k {value}"},
    )
    assert response.status_code in (400, 431), response.text
    assert response.status_code != 201


@pytest.mark.parametrize(
    ("method", "path", "headers", "body"),
    [
        ("PUT", "/api/v1/uploads/{upload}/chunks/" + HUGE, {}, b"x"),
        ("POST", "/files/", {"Tus-Resumable": "1.0.0", "Upload-Length": HUGE}, b""),
        ("POST", "/files/", {"Tus-Resumable": "1.0.0", "Upload-Length": DIGITS}, b""),
        (
            "PATCH",
            "{tus}",
            {
                "Tus-Resumable": "1.0.0",
                "Upload-Offset": DIGITS,
                "Content-Type": "application/offset+octet-stream",
            },
            b"x",
        ),
    ],
    ids=["chunk-index", "tus-length", "tus-length-digits", "tus-offset-digits"],
)
def test_huge_numbers_elsewhere(
    http: httpx.Client,
    stored: dict[str, str],
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
) -> None:
    url = path.format(upload=stored["upload"], tus=stored["tus"])
    response = http.request(method, url, headers=headers, content=body)
    assert 400 <= response.status_code < 500, response.text


def test_huge_sizes_on_create(http: httpx.Client) -> None:
    body: dict[str, Any] = {"filename": "a", "size": 10**30, "chunk_size": 10**30}
    response = http.post("/api/v1/uploads", json=body)
    assert 400 <= response.status_code < 500, response.text


@pytest.mark.parametrize("declared", [5, 20])
def test_a_seed_chunk_must_be_as_long_as_its_chunk_size(http: httpx.Client, declared: int) -> None:
    upload_id = http.post("/api/v1/file/upload/init/").json()["data"]["upload_id"]
    response = http.post(
        "/api/v1/file/upload/chunk/",
        data={"upload_id": upload_id, "chunk_index": 0, "chunk_size": declared},
        files={"file": ("part", b"0123456789", "application/octet-stream")},
    )
    assert response.status_code in (400, 409, 422), response.text
    assert response.json()["success"] is False
