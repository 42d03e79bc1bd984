"""The leak that access control closed: a private seed-API file through the other routes.

Before, a file uploaded with a `credential` was listed by the native API, downloaded
whole through tus GET, renamed and deleted by anyone. Now its bytes need its credential
(or a signed link), its metadata the credential or a tenant admin.
"""

from __future__ import annotations

import json
import os

import httpx
from fastapi import FastAPI

from tests.api.conftest import Keys, bearer
from tests.legacy.seed import upload, wait_status

CREDENTIAL = {"user_id": 84793}
AS_QUERY = {"user_id": "84793"}
AS_HEADER = {"Filedock-Credential": json.dumps(CREDENTIAL)}


async def test_a_private_file_stays_private_on_every_front_end(
    secured_app: FastAPI, keys: Keys
) -> None:
    transport = httpx.ASGITransport(app=secured_app)
    data = os.urandom(100_000)

    def client(key: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=transport, base_url="http://t", headers=bearer(key))

    async with (
        client(keys.alice) as alice,
        client(keys.carol) as carol,
        client(keys.admin) as admin,
    ):
        started, done = await upload(alice, data, credential=CREDENTIAL)
        file_id, upload_id = done["id"], started["upload_id"]
        await wait_status(alice, file_id, "SUCCESS", params=AS_QUERY)

        listed = (await carol.get("/api/v1/files")).json()["items"]
        assert file_id not in [f["id"] for f in listed]  # hidden from a plain user
        assert file_id in [f["id"] for f in (await admin.get("/api/v1/files")).json()["items"]]

        for who in (alice, carol, admin):  # bytes need the credential, admin or not
            assert (await who.get(f"/api/v1/files/{file_id}/content")).status_code == 403
        assert (await alice.get(f"/files/{upload_id}")).status_code == 403  # tus GET
        assert (await carol.get(f"/files/{upload_id}")).status_code == 404  # not her upload
        assert (await carol.get(f"/api/v1/files/{file_id}")).status_code == 403

        renamed = await carol.patch(f"/api/v1/files/{file_id}", json={"name": "mine.bin"})
        assert renamed.status_code == 403
        assert (await carol.delete(f"/api/v1/files/{file_id}")).status_code == 403

        opened = await carol.get(f"/api/v1/files/{file_id}/content", headers=AS_HEADER)
        assert opened.status_code == 200 and opened.content == data
        assert (await admin.get(f"/api/v1/files/{file_id}")).json()["name"].startswith(upload_id)
        moved = await admin.patch(f"/api/v1/files/{file_id}", json={"name": "kept.bin"})
        assert moved.status_code == 200 and moved.json()["name"] == "kept.bin"
        assert (await admin.delete(f"/api/v1/files/{file_id}")).status_code == 204
