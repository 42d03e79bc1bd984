"""Small helpers the API tests share: create, send every chunk, complete."""

from __future__ import annotations

import hashlib
import random
from typing import Any

import httpx
from fastapi import FastAPI

from filedock.core.quotas import Limits
from filedock.db.tenants import TenantStore


async def create(client: httpx.AsyncClient, data: bytes | None, **fields: Any) -> dict[str, Any]:
    body = {"filename": "blob.bin", **fields}
    if data is not None:
        body.setdefault("size", len(data))
    response = await client.post("/api/v1/uploads", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def chunks_of(data: bytes, chunk_size: int) -> list[bytes]:
    return [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)] or [b""]


async def send(
    client: httpx.AsyncClient, upload: dict[str, Any], data: bytes, shuffle: bool = False
) -> None:
    pieces = list(enumerate(chunks_of(data, upload["chunk_size"])))
    if shuffle:
        random.Random(7).shuffle(pieces)
    for index, piece in pieces:
        url = f"/api/v1/uploads/{upload['id']}/chunks/{index}"
        response = await client.put(url, content=piece)
        assert response.status_code == 200, response.text


async def upload_file(client: httpx.AsyncClient, data: bytes, **fields: Any) -> dict[str, Any]:
    upload = await create(client, data, **fields)
    await send(client, upload, data, shuffle=True)
    response = await client.post(f"/api/v1/uploads/{upload['id']}/complete")
    assert response.status_code == 201, response.text
    record = response.json()
    assert record["sha256"] == hashlib.sha256(data).hexdigest()
    return record


async def set_limits(app: FastAPI, tenant: str = "default", **limits: Any) -> None:
    """Give `tenant` these limits in the app's database, as `filedock tenants` would."""
    await TenantStore(app.state.services.engine).set_limits(tenant, Limits(**limits))
