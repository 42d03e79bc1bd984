"""GET /api/v1/uploads: the caller's unfinished uploads; a tenant admin sees everyone's."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

pytestmark = pytest.mark.databases


async def as_user(
    app: FastAPI, user: str, scopes: str = "read,write", tenant: str = "default"
) -> dict[str, str]:
    _, secret = await app.state.services.keys.create(tenant=tenant, user=user, scopes=scopes)
    return {"Authorization": f"Bearer {secret}"}


async def start(client: httpx.AsyncClient, headers: dict, name: str, size: int = 10) -> str:
    body = {"filename": name, "size": size, "chunk_size": 4}
    response = await client.post("/api/v1/uploads", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def put(
    client: httpx.AsyncClient, headers: dict, upload_id: str, index: int, data: bytes
) -> None:
    url = f"/api/v1/uploads/{upload_id}/chunks/{index}"
    assert (await client.put(url, content=data, headers=headers)).status_code == 200


async def test_each_user_lists_their_unfinished_uploads_and_an_admin_the_tenants(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    alice, bob = await as_user(app, "alice"), await as_user(app, "bob")
    first = await start(client, alice, "first.bin")
    await put(client, alice, first, 1, b"5678")
    second = await start(client, alice, "second.bin")
    done = await start(client, alice, "done.bin", size=3)
    await put(client, alice, done, 0, b"abc")
    completed = await client.post(f"/api/v1/uploads/{done}/complete", headers=alice)
    assert completed.status_code == 201
    aborted = await start(client, alice, "aborted.bin")
    assert (await client.delete(f"/api/v1/uploads/{aborted}", headers=alice)).status_code == 204
    bobs = await start(client, bob, "bob.bin")

    def listed(response: httpx.Response) -> dict[str, dict]:
        assert response.status_code == 200, response.text
        return {u["id"]: u for u in response.json()["items"]}

    mine = listed(await client.get("/api/v1/uploads", headers=alice))
    assert list(mine) == [second, first]  # newest first
    assert (mine[first]["received_chunks"], mine[first]["missing_chunks"]) == ([1], [0, 2])
    assert mine[first]["bytes_received"] == 4 and mine[first]["state"] == "receiving"
    reader = await as_user(app, "alice", scopes="read")
    assert set(listed(await client.get("/api/v1/uploads", headers=reader))) == {first, second}
    assert set(listed(await client.get("/api/v1/uploads", headers=bob))) == {bobs}
    admin = await as_user(app, "carol", scopes="admin")
    assert set(listed(await client.get("/api/v1/uploads", headers=admin))) == {first, second, bobs}
    stranger = await as_user(app, "alice", scopes="admin", tenant="other")
    assert listed(await client.get("/api/v1/uploads", headers=stranger)) == {}
    assert (await client.get("/api/v1/uploads")).status_code == 401
