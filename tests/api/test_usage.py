"""GET /api/v1/usage: the caller's tenant's usage and limits, and no other tenant's."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.helpers import set_limits, upload_file


async def _bearer(app: FastAPI, tenant: str, scopes: str = "read,write") -> dict[str, str]:
    _, secret = await app.state.services.keys.create(tenant=tenant, user="u", scopes=scopes)
    return {"Authorization": f"Bearer {secret}"}


async def test_usage_shows_the_callers_tenant_only(app: FastAPI, client: httpx.AsyncClient) -> None:
    acme, beta = await _bearer(app, "acme"), await _bearer(app, "beta", "read")
    client.headers.update(acme)
    await upload_file(client, b"x" * 1000)
    await set_limits(app, "acme", max_bytes=10**6, allowed_types=("image/*",))
    client.headers.clear()

    mine = await client.get("/api/v1/usage", headers=acme)
    assert mine.status_code == 200, mine.text
    assert mine.json() == {
        "tenant": "acme",
        "bytes_used": 1000,
        "files": 1,
        "file_bytes": 1000,
        "uploads": 0,
        "staged_bytes": 0,
        "limits": {
            "max_bytes": 10**6,
            "max_files": None,
            "max_file_size": None,
            "allowed_types": ["image/*"],
        },
    }
    theirs = (await client.get("/api/v1/usage", headers=beta)).json()
    assert (theirs["tenant"], theirs["files"], theirs["bytes_used"]) == ("beta", 0, 0)
    assert set(theirs["limits"].values()) == {None}
    anonymous = await client.get("/api/v1/usage")  # a key exists: auto mode is closed
    assert anonymous.status_code == 401
