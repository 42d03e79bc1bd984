"""Document 002's path rules over HTTP: exists, busy, resume, overwrite, rename, move."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.api.conftest import Keys, bearer

pytestmark = pytest.mark.databases


@pytest.fixture
async def users(secured_app: FastAPI, keys: Keys) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    transport = httpx.ASGITransport(app=secured_app)
    clients = {
        name: httpx.AsyncClient(transport=transport, base_url="http://t", headers=bearer(key))
        for name, key in (("alice", keys.alice), ("carol", keys.carol))
    }
    yield clients
    for client in clients.values():
        await client.aclose()


async def start(client: httpx.AsyncClient, path: str, size: int, **extra: Any) -> httpx.Response:
    return await client.post("/api/v1/uploads", json={"path": path, "size": size, **extra})


async def send(
    client: httpx.AsyncClient, upload_id: str, data: bytes, **body: Any
) -> httpx.Response:
    chunk = await client.put(f"/api/v1/uploads/{upload_id}/chunks/0", content=data)
    assert chunk.status_code == 200, chunk.text
    return await client.post(f"/api/v1/uploads/{upload_id}/complete", json=body or None)


async def put_file(
    client: httpx.AsyncClient, path: str, data: bytes, **extra: Any
) -> dict[str, Any]:
    made = await start(client, path, len(data), **extra)
    assert made.status_code == 201, made.text
    done = await send(client, made.json()["id"], data)
    assert done.status_code == 201, done.text
    return done.json()


async def test_a_taken_path_is_409_with_the_file_there(users: dict[str, httpx.AsyncClient]) -> None:
    alice, carol = users["alice"], users["carol"]
    first = await put_file(alice, "/videos/2026/holiday.mp4", b"old bytes")
    assert first["path"] == "/videos/2026/holiday.mp4" and first["name"] == "holiday.mp4"
    taken = await start(carol, "videos//2026/holiday.mp4", 5)  # the same path, spelt loosely
    assert taken.status_code == 409
    error = taken.json()
    assert error["code"] == "path_exists"
    assert error["details"]["existing"]["id"] == first["id"]
    assert error["details"]["existing"]["sha256"] == first["sha256"]


async def test_overwrite_replaces_and_frees_the_old_file(
    users: dict[str, httpx.AsyncClient], secured_app: FastAPI
) -> None:
    alice, carol = users["alice"], users["carol"]
    old = await put_file(alice, "/doc.txt", b"version one")
    new = await put_file(carol, "/doc.txt", b"version two!", if_exists="overwrite")
    found = await alice.get("/api/v1/files/by-path", params={"path": "/doc.txt"})
    assert found.json()["id"] == new["id"] and found.json()["owner"] == "carol"
    assert (await alice.get(f"/api/v1/files/{old['id']}")).status_code == 404
    assert (await alice.get(f"/api/v1/files/{new['id']}/content")).content == b"version two!"
    folder = secured_app.state.services.settings.data_dir / "storage"
    stored = [p.name for p in folder.rglob("*") if p.is_file()]
    assert new["id"] in stored and old["id"] not in stored  # the old bytes are freed


async def test_rename_keeps_both(users: dict[str, httpx.AsyncClient]) -> None:
    alice = users["alice"]
    await put_file(alice, "/a/report.pdf", b"1")
    second = await put_file(alice, "/a/report.pdf", b"2", if_exists="rename")
    third = await put_file(alice, "/a/report.pdf", b"3", if_exists="rename")
    assert (second["path"], third["path"]) == ("/a/report (1).pdf", "/a/report (2).pdf")


async def test_busy_for_others_resumed_for_the_same_user(
    users: dict[str, httpx.AsyncClient],
) -> None:
    alice, carol = users["alice"], users["carol"]
    made = await start(alice, "/big.iso", 10)
    assert made.status_code == 201
    busy = await start(carol, "/big.iso", 10, if_exists="overwrite")
    assert busy.status_code == 409 and busy.json()["code"] == "path_busy"
    assert busy.json()["details"]["user"] == "alice" and busy.json()["details"]["since"]
    again = await start(alice, "/big.iso", 10)
    assert again.status_code == 200
    assert again.json()["resumed"] is True and again.json()["id"] == made.json()["id"]
    assert again.json()["missing_chunks"] == [0]


async def test_two_users_racing_for_a_path_get_one_upload(
    users: dict[str, httpx.AsyncClient],
) -> None:
    answers = await asyncio.gather(
        *(start(users[name], "/race.bin", 4) for name in ("alice", "carol", "alice", "carol"))
    )
    statuses = sorted(a.status_code for a in answers)
    winner = next(a for a in answers if a.status_code == 201).json()
    losers = [a for a in answers if a.status_code == 409]
    resumed = [a for a in answers if a.status_code == 200]
    assert statuses.count(201) == 1, statuses
    assert all(a.json()["code"] == "path_busy" for a in losers)
    assert all(a.json()["id"] == winner["id"] for a in resumed)


async def test_concurrent_overwrites_leave_one_whole_file(
    users: dict[str, httpx.AsyncClient],
) -> None:
    alice = users["alice"]
    await put_file(alice, "/shared.bin", b"original")
    one, two = os.urandom(4096), os.urandom(4096)
    uploads = []
    for data in (one, two):  # finished apart, then both moved onto the same path at once
        made = await start(alice, f"/stage-{len(uploads)}.bin", len(data))
        uploads.append(made.json()["id"])
    moved = []
    results = await asyncio.gather(
        *(send(alice, u, d) for u, d in zip(uploads, (one, two), strict=True))
    )
    for result in results:
        assert result.status_code == 201
        moved.append(
            alice.patch(
                f"/api/v1/files/{result.json()['id']}",
                json={"path": "/shared.bin", "if_exists": "overwrite"},
            )
        )
    answers = await asyncio.gather(*moved)
    # each move lands; the one overwritten by the other right after may answer 404 for
    # its own id (it is gone), never anything else
    assert all(a.status_code in (200, 404) for a in answers), [a.text for a in answers]
    assert any(a.status_code == 200 for a in answers)
    listed = (await alice.get("/api/v1/files", params={"prefix": "/", "delimiter": "/"})).json()
    at_shared = [f for f in listed["items"] if f["path"] == "/shared.bin"]
    assert len(at_shared) == 1
    content = (await alice.get(f"/api/v1/files/{at_shared[0]['id']}/content")).content
    assert content in (one, two)


async def test_a_path_taken_before_completion_is_409_then_rename_places_it(
    users: dict[str, httpx.AsyncClient],
) -> None:
    alice, carol = users["alice"], users["carol"]
    made = await start(alice, "/late.bin", 3)
    other = await put_file(carol, "/elsewhere.bin", b"xyz")
    moved = await carol.patch(f"/api/v1/files/{other['id']}", json={"path": "/late.bin"})
    assert moved.status_code == 200 and moved.json()["name"] == "late.bin"
    refused = await send(alice, made.json()["id"], b"abc")
    assert refused.status_code == 409 and refused.json()["code"] == "path_exists"
    placed = await alice.post(
        f"/api/v1/uploads/{made.json()['id']}/complete", json={"if_exists": "rename"}
    )
    assert placed.status_code == 201 and placed.json()["path"] == "/late (1).bin"


async def test_folders_list_their_files_and_sub_folders(
    users: dict[str, httpx.AsyncClient],
) -> None:
    alice = users["alice"]
    for path in ("/v/a.mp4", "/v/b.mp4", "/v/2026/c.mp4", "/v/2025/d.mp4", "/w/e.mp4"):
        await put_file(alice, path, b"x")
    listed = (await alice.get("/api/v1/files", params={"prefix": "/v/", "delimiter": "/"})).json()
    assert sorted(f["path"] for f in listed["items"]) == ["/v/a.mp4", "/v/b.mp4"]
    assert listed["folders"] == ["/v/2025/", "/v/2026/"]
    everything = (await alice.get("/api/v1/files", params={"prefix": "/v/"})).json()
    assert everything["total"] == 4


@pytest.mark.parametrize("path", ["/a/../b", "/a/./b", "", "/", "/a\x00b", "/" + "x" * 1100])
async def test_a_malformed_path_is_422(users: dict[str, httpx.AsyncClient], path: str) -> None:
    answer = await start(users["alice"], path, 1)
    assert answer.status_code == 422
    assert answer.json()["code"] in ("path_invalid", "invalid_request")


async def test_tus_metadata_names_the_path(users: dict[str, httpx.AsyncClient]) -> None:
    alice = users["alice"]
    await put_file(alice, "/tus/clip.mov", b"native")
    meta = "path " + base64.b64encode(b"/tus/clip.mov").decode()
    headers = {"Tus-Resumable": "1.0.0", "Upload-Length": "3", "Upload-Metadata": meta}
    refused = await alice.post("/files/", headers=headers)
    assert refused.status_code == 409 and refused.text.startswith("path_exists:")
    renaming = meta + ",if_exists " + base64.b64encode(b"rename").decode()
    made = await alice.post("/files/", headers={**headers, "Upload-Metadata": renaming})
    assert made.status_code == 201
    sent = await alice.patch(
        made.headers["Location"],
        content=b"tus",
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert sent.status_code == 204
    found = await alice.get("/api/v1/files/by-path", params={"path": "/tus/clip (1).mov"})
    assert found.status_code == 200 and found.json()["size"] == 3
