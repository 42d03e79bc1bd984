"""Every upload path on every backend, over HTTP: the native chunk API (shuffled), the
seed API and tus (PATCHes smaller than an S3 part) each give a byte-exact download, and
nothing staged is left after completion, abort or expiry."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from filedock.app import create_app
from filedock.wiring import Services
from tests.helpers import create, send, upload_file
from tests.legacy import seed
from tests.storage.conftest import MiB, leftovers, storage_settings

TUS = {"Tus-Resumable": "1.0.0"}


@dataclass
class Rig:
    client: httpx.AsyncClient
    services: Services


@pytest.fixture
async def rig(
    backend_kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Rig]:
    settings = storage_settings(
        backend_kind,
        request,
        tmp_path,
        default_chunk_size=5 * MiB,
        max_chunk_size=8 * MiB,
        upload_ttl_seconds=2,
        complete_wait_seconds=60,
    )
    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://filedock.test") as c:
            yield Rig(c, app.state.services)


async def download(client: httpx.AsyncClient, url: str, **headers: str) -> httpx.Response:
    response = await client.get(url, headers=headers)
    assert response.status_code in (200, 206), response.text
    return response


async def test_native_upload_in_shuffled_order(rig: Rig) -> None:
    data = os.urandom(17 * MiB + 4321)
    record = await upload_file(rig.client, data, filename="native.bin")
    assert (await download(rig.client, record["urls"]["content"])).content == data
    ranged = await download(rig.client, record["urls"]["content"], Range="bytes=5242870-5242899")
    assert ranged.content == data[5242870:5242900]
    assert await leftovers(rig.services.storage.backend) == []


async def test_seed_api_upload(rig: Rig) -> None:
    data = os.urandom(11 * MiB + 99)
    _started, done = await seed.upload(rig.client, data)
    await seed.wait_status(rig.client, done["id"], "SUCCESS", timeout=60)
    got = await download(rig.client, done["download_url"].replace("http://filedock.test", ""))
    assert got.content == data
    assert await leftovers(rig.services.storage.backend) == []


async def test_tus_upload_with_small_patches(rig: Rig) -> None:
    data = os.urandom(12 * MiB + 5)
    created = await rig.client.post(
        "/files/", headers={**TUS, "Upload-Length": str(len(data)), "Upload-Metadata": ""}
    )
    assert created.status_code == 201, created.text
    location = created.headers["Location"].replace("http://filedock.test", "")
    offset = 0
    for size in (700_000, 3 * MiB, 1, 6 * MiB, 64_000, len(data)):
        piece = data[offset : offset + size]
        patched = await rig.client.patch(
            location,
            content=piece,
            headers={
                **TUS,
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert patched.status_code == 204, patched.text
        offset += len(piece)
        if offset == len(data):
            break
    assert (await download(rig.client, location, **TUS)).content == data
    assert await leftovers(rig.services.storage.backend) == []


async def test_abort_leaves_nothing(rig: Rig) -> None:
    data = os.urandom(12 * MiB)
    upload = await create(rig.client, data)
    await send(rig.client, upload, data[: 10 * MiB])  # two of its three chunks
    assert await leftovers(rig.services.storage.backend) != []
    assert (await rig.client.delete(f"/api/v1/uploads/{upload['id']}")).status_code == 204
    assert await leftovers(rig.services.storage.backend) == []


async def test_expiry_leaves_nothing(rig: Rig) -> None:
    data = os.urandom(6 * MiB)
    upload = await create(rig.client, data, sha256=hashlib.sha256(data).hexdigest())
    await send(rig.client, upload, data[: 5 * MiB])
    assert await leftovers(rig.services.storage.backend) != []
    await asyncio.sleep(2.2)
    assert await rig.services.uploads.expire_idle() == 1
    assert await leftovers(rig.services.storage.backend) == []
    gone = await rig.client.get(f"/api/v1/uploads/{upload['id']}")
    assert gone.status_code == 410
