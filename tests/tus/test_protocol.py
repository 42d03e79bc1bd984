"""tus 1.0.0 core protocol over HTTP: each verb's status codes, headers and errors."""

from __future__ import annotations

import os
from email.utils import parsedate_to_datetime

import httpx
import pytest

from tests.tus.conftest import OCTET, TUS, Tus, metadata


async def test_options_describes_the_server(client: httpx.AsyncClient) -> None:
    for path in ("/files/", "/files", "/files/anything"):
        answer = await client.options(path)
        assert answer.status_code == 204
        assert answer.headers["Tus-Resumable"] == "1.0.0"
        assert answer.headers["Tus-Version"] == "1.0.0"
        assert answer.headers["Tus-Extension"].split(",") == [
            "creation",
            "creation-with-upload",
            "creation-defer-length",
            "expiration",
            "checksum",
            "termination",
            "concatenation",
        ]
        assert answer.headers["Tus-Max-Size"] == str(64 * 1024 * 1024)  # max_file_size
        assert answer.headers["Tus-Checksum-Algorithm"] == "md5,sha1,sha256"


async def test_options_ignores_the_version_header(client: httpx.AsyncClient) -> None:
    answer = await client.options("/files/", headers={"Tus-Resumable": "0.2.2"})
    assert answer.status_code == 204


async def test_create_answers_201_with_location_and_expiry(tus: Tus) -> None:
    answer = await tus.create(100, upload_metadata=metadata(filename="a.txt"))
    assert answer.status_code == 201
    assert answer.headers["Location"].startswith("http://filedock.test/files/")
    assert answer.headers["Tus-Resumable"] == "1.0.0"
    expires = parsedate_to_datetime(answer.headers["Upload-Expires"])
    assert answer.headers["Upload-Expires"].endswith(" GMT") and expires.tzinfo is not None


async def test_head_reports_offset_length_and_metadata_uncached(tus: Tus) -> None:
    sent = metadata(filename="ü.bin", filetype="image/png", owner="ops") + ",empty"
    path = await tus.new(10, upload_metadata=sent)
    assert (await tus.patch(path, 0, b"12345")).status_code == 204
    answer = await tus.head(path)
    assert answer.status_code == 200
    assert answer.headers["Upload-Offset"] == "5"
    assert answer.headers["Upload-Length"] == "10"
    assert answer.headers["Upload-Metadata"] == sent  # exactly as the client sent it
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Tus-Resumable"] == "1.0.0"
    assert "Upload-Defer-Length" not in answer.headers


async def test_patch_appends_and_the_last_byte_makes_a_file(
    tus: Tus, client: httpx.AsyncClient
) -> None:
    data = os.urandom(300_000)
    sent = metadata(filename="report.pdf", filetype="application/pdf", team="blue")
    path = await tus.new(len(data), upload_metadata=sent)
    first = await tus.patch(path, 0, data[:100_000])
    assert first.status_code == 204
    assert first.headers["Upload-Offset"] == "100000"
    assert "Upload-Expires" in first.headers
    last = await tus.patch(path, 100_000, data[100_000:])
    assert last.status_code == 204
    assert last.headers["Upload-Offset"] == str(len(data))
    assert "Upload-Expires" not in last.headers  # a file does not expire
    listed = (await client.get("/api/v1/files")).json()["items"]
    record = next(r for r in listed if r["name"] == "report.pdf")
    assert record["content_type"] == "application/pdf"
    assert record["metadata"] == {"team": "blue"}
    assert record["size"] == len(data)
    assert (await client.get(record["urls"]["content"])).content == data
    assert (await tus.head(path)).headers["Upload-Offset"] == str(len(data))


async def test_get_downloads_the_finished_upload_with_range(
    tus: Tus, client: httpx.AsyncClient
) -> None:
    data = os.urandom(5000)
    path = await tus.upload(data, upload_metadata=metadata(filename="r.bin"))
    whole = await client.get(path)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["Tus-Resumable"] == "1.0.0"
    part = await client.get(path, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["Content-Range"] == "bytes 100-199/5000"
    outside = await client.get(path, headers={"Range": "bytes=9000-"})
    assert outside.status_code == 416
    assert outside.headers["Content-Range"] == "bytes */5000"


async def test_get_of_an_unfinished_upload_is_409(tus: Tus, client: httpx.AsyncClient) -> None:
    path = await tus.new(10)
    assert (await client.get(path)).status_code == 409


async def test_resending_the_last_request_of_a_finished_upload_is_harmless(tus: Tus) -> None:
    path = await tus.upload(b"abc")
    again = await tus.patch(path, 3, b"")
    assert again.status_code == 204 and again.headers["Upload-Offset"] == "3"
    assert (await tus.patch(path, 0, b"abc")).status_code == 409
    assert (await tus.patch(path, 3, b"d")).status_code == 413


@pytest.mark.parametrize("version", [None, "0.2.2", "2.0.0"])
async def test_an_unsupported_version_is_412_with_tus_version(
    client: httpx.AsyncClient, version: str | None
) -> None:
    headers = {"Upload-Length": "10"} | ({"Tus-Resumable": version} if version else {})
    answer = await client.post("/files/", headers=headers)
    assert answer.status_code == 412
    assert answer.headers["Tus-Version"] == "1.0.0"
    assert answer.headers["Tus-Resumable"] == "1.0.0"
    assert (await client.get("/api/v1/files")).json()["total"] == 0  # nothing was processed


async def test_412_applies_to_every_verb_but_options_and_get(tus: Tus) -> None:
    path = await tus.new(10)
    old = {"Tus-Resumable": "0.2.2"}
    assert (await tus.http.head(path, headers=old)).status_code == 412
    patch = {**OCTET, **old, "Upload-Offset": "0"}
    assert (await tus.http.patch(path, headers=patch, content=b"x")).status_code == 412
    assert (await tus.http.delete(path, headers=old)).status_code == 412
    assert (await tus.head(path)).headers["Upload-Offset"] == "0"


async def test_patch_without_the_offset_content_type_is_415(tus: Tus) -> None:
    path = await tus.new(10)
    for content_type in (None, "application/octet-stream", "text/plain"):
        headers = {**TUS, "Upload-Offset": "0"}
        if content_type is not None:
            headers["Content-Type"] = content_type
        answer = await tus.http.patch(path, headers=headers, content=b"x")
        assert answer.status_code == 415, content_type
    assert (await tus.head(path)).headers["Upload-Offset"] == "0"


async def test_a_wrong_offset_is_409_and_changes_nothing(tus: Tus) -> None:
    path = await tus.new(10)
    assert (await tus.patch(path, 0, b"12345")).status_code == 204
    for offset in (0, 4, 6):
        assert (await tus.patch(path, offset, b"x")).status_code == 409
    assert (await tus.head(path)).headers["Upload-Offset"] == "5"


async def test_more_bytes_than_the_length_is_413(tus: Tus) -> None:
    path = await tus.new(4)
    assert (await tus.patch(path, 0, b"12345")).status_code == 413
    assert (await tus.head(path)).headers["Upload-Offset"] == "0"


async def test_unknown_uploads_are_404_on_every_verb(tus: Tus) -> None:
    path = "/files/0123456789abcdef0123456789abcdef"
    head = await tus.head(path)
    assert head.status_code == 404 and "Upload-Offset" not in head.headers
    assert (await tus.patch(path, 0, b"x")).status_code == 404
    assert (await tus.http.delete(path, headers=TUS)).status_code == 404
    assert (await tus.http.get(path)).status_code == 404


@pytest.mark.parametrize(
    "headers",
    [
        {},  # neither Upload-Length nor Upload-Defer-Length
        {"Upload-Length": "-1"},
        {"Upload-Length": "ten"},
        {"Upload-Length": "10", "Upload-Defer-Length": "1"},
        {"Upload-Defer-Length": "2"},
        {"Upload-Length": "10", "Upload-Metadata": "filename not-base64!"},
        {"Upload-Length": "10", "Upload-Metadata": "a YQ==,a YQ=="},
        {"Upload-Length": "10", "Upload-Metadata": "a YQ== b"},
        {"Upload-Length": "10", "Upload-Metadata": ",a YQ=="},
        {"Upload-Length": "10", "Upload-Concat": "partially"},
        {"Upload-Concat": "final;"},
        {"Upload-Concat": "final;/elsewhere/abc"},
    ],
)
async def test_malformed_creation_headers_are_400(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    answer = await client.post("/files/", headers={**TUS, **headers})
    assert answer.status_code == 400, answer.text
    assert answer.headers["Tus-Resumable"] == "1.0.0"


async def test_malformed_patch_headers_are_400(tus: Tus) -> None:
    path = await tus.new(10)
    no_offset = {**OCTET}
    assert (await tus.http.patch(path, headers=no_offset, content=b"x")).status_code == 400
    assert (await tus.patch(path, -1, b"x")).status_code == 400
    bad = {**OCTET, "Upload-Offset": "zero"}
    assert (await tus.http.patch(path, headers=bad, content=b"x")).status_code == 400


async def test_over_the_maximum_size_is_413(tus: Tus) -> None:
    answer = await tus.create(64 * 1024 * 1024 + 1)
    assert answer.status_code == 413
    assert answer.headers["Tus-Resumable"] == "1.0.0"


async def test_method_override_turns_a_post_into_patch_or_delete(tus: Tus) -> None:
    path = await tus.new(3)
    headers = {**OCTET, "Upload-Offset": "0", "X-HTTP-Method-Override": "PATCH"}
    patched = await tus.http.post(path, headers=headers, content=b"ab")
    assert patched.status_code == 204 and patched.headers["Upload-Offset"] == "2"
    deleting = {**TUS, "X-HTTP-Method-Override": "DELETE"}
    assert (await tus.http.post(path, headers=deleting)).status_code == 204
    assert (await tus.head(path)).status_code == 410


async def test_errors_are_short_text_and_head_errors_have_no_body(tus: Tus) -> None:
    path = "/files/0123456789abcdef0123456789abcdef"
    patched = await tus.patch(path, 0, b"x")
    assert patched.headers["Content-Type"].startswith("text/plain")
    assert patched.text.startswith("upload_not_found: ")
    head = await tus.head(path)
    assert head.content == b"" and head.headers["Cache-Control"] == "no-store"
