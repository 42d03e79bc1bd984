"""The original clients' flow end to end: init, chunks in any order, complete, poll, get."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import httpx
import pytest

from filedock.api.legacy import multipart
from tests.legacy.seed import API, complete, init, send_all, send_chunk, upload, wait_status

KiB = 1024


async def test_init_answers_the_chunk_size_and_an_id(client: httpx.AsyncClient) -> None:
    for path in (f"{API}/upload/init/", f"{API}/upload/init"):
        response = await client.post(path)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["success"] is True and body["message"] == ""
        data = body["data"]
        assert data["chunk_size"] == 64 * KiB  # the server's choice (settings)
        assert data["chunck_size"] == data["chunk_size"]  # the original's spelling
        assert set(body) == {"data", "message", "success"}


async def test_init_takes_an_empty_form_as_postman_sends_it(client: httpx.AsyncClient) -> None:
    headers = {"Content-Type": "multipart/form-data; boundary=b"}
    for empty in (b"--b--\r\n", b""):
        response = await client.post(f"{API}/upload/init/", content=empty, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["data"]["upload_id"]


async def test_full_upload_in_shuffled_order_downloads_byte_exact(
    client: httpx.AsyncClient, payload: Callable[[int], bytes]
) -> None:
    data = payload(5 * 64 * KiB + 123)
    started = await init(client)
    count = await send_all(client, started["upload_id"], data, started["chunk_size"])
    assert count == 6
    done = await complete(
        client, started["upload_id"], data, started["chunk_size"], detail={"album": "summer"}
    )
    assert done["path"] == f"public/{started['upload_id']}.mp4"
    assert done["content_type"] == "video/mp4"
    assert done["detail"] == {"album": "summer"}
    assert done["credential"] is None
    await wait_status(client, done["id"], "SUCCESS")
    got = await client.get(f"{API}/get/{done['id']}")
    assert got.status_code == 200
    assert got.json() == {"data": done, "message": "", "success": True}
    downloaded = await client.get(done["download_url"])
    assert downloaded.status_code == 200
    assert downloaded.content == data
    native = (await client.get(f"/api/v1/files/{done['id']}")).json()
    assert native["sha256"] == hashlib.sha256(data).hexdigest()
    assert native["name"] == f"{started['upload_id']}.mp4"


async def test_chunk_answers_its_index_and_upload(client: httpx.AsyncClient) -> None:
    started = await init(client)
    response = await send_chunk(client, started["upload_id"], 3, b"x" * 64 * KiB)
    assert response.json() == {
        "data": {"chunk_index": 3, "upload_id": started["upload_id"]},
        "message": "The chunk is uploaded successfully!",
        "success": True,
    }


@pytest.mark.parametrize("slash", ["", "/"])
async def test_every_path_answers_with_and_without_trailing_slash(
    client: httpx.AsyncClient, slash: str
) -> None:
    data = b"0123456789" * 100
    started = (await client.post(f"{API}/upload/init{slash}")).json()["data"]
    files = {"file": ("a", data)}
    form = {"upload_id": started["upload_id"], "chunk_index": 0, "chunk_size": len(data)}
    chunk = await client.post(f"{API}/upload/chunk{slash}", data=form, files=files)
    assert chunk.status_code == 200, chunk.text
    totals = {"total_chunks": 1, "total_size": len(data), "file_extension": "txt"}
    form = {"upload_id": started["upload_id"], "content_type": "text/plain", **totals}
    done = await client.post(f"{API}/upload/complete{slash}", data=form)
    assert done.status_code == 200, done.text
    file_id = done.json()["data"]["id"]
    await wait_status(client, file_id, "SUCCESS")
    status = await client.get(f"{API}/status/{file_id}{slash}")
    assert status.json()["data"] == {"status": "SUCCESS"}
    got = await client.get(f"{API}/get/{file_id}{slash}")
    assert got.status_code == 200
    retry = await client.post(f"{API}/upload/retry{slash}", data={"file_id": file_id})
    assert retry.status_code == 409  # served, not redirected: the merge succeeded already


async def test_completing_again_gives_the_same_file(
    client: httpx.AsyncClient, payload: Callable[[int], bytes]
) -> None:
    data = payload(100 * KiB)
    started, done = await upload(client, data)
    again = await complete(client, started["upload_id"], data, started["chunk_size"])
    assert again["id"] == done["id"]


async def test_a_chunk_part_after_its_fields_streams_to_storage_without_a_copy(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, payload: Callable[[int], bytes]
) -> None:
    def no_spool(*_: object) -> None:
        raise AssertionError("the chunk was spooled")

    monkeypatch.setattr(multipart.Spool, "__init__", no_spool)
    data = payload(3 * 64 * KiB)
    _, done = await upload(client, data)  # httpx sends the fields first
    await wait_status(client, done["id"], "SUCCESS")
    assert (await client.get(done["download_url"])).content == data


async def test_a_chunk_part_before_its_fields_is_kept_aside_then_written(
    client: httpx.AsyncClient, payload: Callable[[int], bytes]
) -> None:
    started = await init(client)
    upload_id, size = started["upload_id"], started["chunk_size"]
    data = payload(2 * size)
    for index in (1, 0):
        piece = data[index * size : (index + 1) * size]
        parts = [  # the file first, as Postman sends it
            ("file", (f"segment{index}", piece, "application/octet-stream")),
            ("upload_id", (None, upload_id)),
            ("chunk_index", (None, str(index))),
            ("chunk_size", (None, str(len(piece)))),
        ]
        response = await client.post(f"{API}/upload/chunk/", files=parts)
        assert response.status_code == 200, response.text
    done = await complete(client, upload_id, data, size)
    await wait_status(client, done["id"], "SUCCESS")
    assert (await client.get(done["download_url"])).content == data
