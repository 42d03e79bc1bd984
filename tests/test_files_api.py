"""Files: listing, renaming, deletion, and downloads with ranges and conditions."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from tests.helpers import upload_file

pytestmark = pytest.mark.databases  # the core's API runs on SQLite, MariaDB, PostgreSQL


async def test_listing_filters_and_pages(client: httpx.AsyncClient) -> None:
    for name, kind in [
        ("report-1.pdf", "application/pdf"),
        ("report-2.pdf", "application/pdf"),
        ("photo.jpg", "image/jpeg"),
        ("report_x.txt", "text/plain"),
    ]:
        await upload_file(client, name.encode(), filename=name, content_type=kind)
    everything = (await client.get("/api/v1/files")).json()
    assert everything["total"] == 4
    reports = (await client.get("/api/v1/files", params={"prefix": "report-"})).json()
    assert sorted(f["name"] for f in reports["items"]) == ["report-1.pdf", "report-2.pdf"]
    underscore = (await client.get("/api/v1/files", params={"prefix": "report_"})).json()
    assert [f["name"] for f in underscore["items"]] == ["report_x.txt"]
    pdfs = (await client.get("/api/v1/files", params={"content_type": "application/pdf"})).json()
    assert pdfs["total"] == 2
    page = (await client.get("/api/v1/files", params={"limit": 3, "offset": 3})).json()
    assert len(page["items"]) == 1 and page["total"] == 4
    seen = {
        f["id"] for f in (await client.get("/api/v1/files", params={"limit": 3})).json()["items"]
    }
    assert page["items"][0]["id"] not in seen
    bad = await client.get("/api/v1/files", params={"limit": 0})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_request")


async def test_get_rename_metadata_delete(client: httpx.AsyncClient) -> None:
    record = await upload_file(client, b"content", filename="a.txt", metadata={"k": "v"})
    url = f"/api/v1/files/{record['id']}"
    got = (await client.get(url)).json()
    assert {got["name"], got["size"], got["sha256"]} == {"a.txt", 7, record["sha256"]}
    renamed = await client.patch(url, json={"name": "../b.txt", "metadata": {"x": 1}})
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "b.txt" and renamed.json()["metadata"] == {"x": 1}
    wrong = await client.patch(url, json={"name": 3})
    assert wrong.status_code == 422
    assert (await client.delete(url)).status_code == 204
    assert (await client.get(url)).json()["code"] == "file_not_found"
    assert (await client.get(f"{url}/content")).status_code == 404
    assert (await client.delete(url)).status_code == 404


@pytest.fixture
async def stored(client: httpx.AsyncClient, payload) -> tuple[dict, bytes]:
    data = payload(300_000)
    return await upload_file(client, data, filename="naïve résumé 日本.bin"), data


async def test_full_download_headers(client: httpx.AsyncClient, stored: tuple[dict, bytes]) -> None:
    record, data = stored
    got = await client.get(record["urls"]["content"])
    assert got.status_code == 200 and got.content == data
    assert got.headers["etag"] == f'"{record["sha256"]}"'
    assert got.headers["accept-ranges"] == "bytes"
    assert got.headers["content-length"] == str(len(data))
    disposition = got.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="na_ve r_sum_ __.bin"')
    assert f"filename*=UTF-8''{quote('naïve résumé 日本.bin')}" in disposition
    inline = await client.get(record["urls"]["content"], params={"disposition": "inline"})
    assert inline.headers["content-disposition"].startswith("inline;")


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 100),
        ("bytes=1000-", 1000, 300_000),
        ("bytes=-500", 299_500, 300_000),
        ("bytes=299999-999999", 299_999, 300_000),
    ],
)
async def test_ranges(
    client: httpx.AsyncClient, stored: tuple[dict, bytes], header: str, start: int, end: int
) -> None:
    record, data = stored
    got = await client.get(record["urls"]["content"], headers={"Range": header})
    assert got.status_code == 206
    assert got.content == data[start:end]
    assert got.headers["content-range"] == f"bytes {start}-{end - 1}/{len(data)}"


@pytest.mark.parametrize("header", ["bytes=300000-", "bytes=5-2", "bytes=-0", "bytes=abc"])
async def test_bad_ranges_are_416(
    client: httpx.AsyncClient, stored: tuple[dict, bytes], header: str
) -> None:
    record, data = stored
    got = await client.get(record["urls"]["content"], headers={"Range": header})
    assert got.status_code == 416
    assert got.headers["content-range"] == f"bytes */{len(data)}"
    assert got.json()["code"] == "range_not_satisfiable"


async def test_conditional_requests(client: httpx.AsyncClient, stored: tuple[dict, bytes]) -> None:
    record, data = stored
    url, etag = record["urls"]["content"], f'"{record["sha256"]}"'
    cached = await client.get(url, headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b""
    assert (await client.get(url, headers={"If-None-Match": '"other"'})).status_code == 200
    same = await client.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert same.status_code == 206 and same.content == data[:10]
    changed = await client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert changed.status_code == 200 and changed.content == data
    other_unit = await client.get(url, headers={"Range": "items=0-9"})
    assert other_unit.status_code == 200


async def test_head_has_the_headers_and_no_body(
    client: httpx.AsyncClient, stored: tuple[dict, bytes]
) -> None:
    record, _ = stored
    head = await client.head(record["urls"]["content"], headers={"Range": "bytes=10-19"})
    assert head.status_code == 206
    assert head.headers["content-length"] == "10"
    assert head.content == b""


async def test_unknown_routes_and_methods_are_json(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/nothing")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    wrong = await client.put("/api/v1/files")
    assert (wrong.status_code, wrong.json()["code"]) == (405, "method_not_allowed")
