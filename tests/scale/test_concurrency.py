"""What SQLite's one writer at a time hides, on every database: two replicas (two apps on
one database and one storage folder, each with its own in-memory locks, so only the
database keeps them apart) recording the same chunk, completing the same upload, and
making files of the same name, all at once."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from filedock.app import create_app
from filedock.core.models import Part
from filedock.settings import Settings
from tests.helpers import chunks_of, create, send

pytestmark = pytest.mark.databases

Replicas = tuple[httpx.AsyncClient, httpx.AsyncClient]


@pytest.fixture
async def apps(settings: Settings) -> AsyncIterator[tuple[FastAPI, FastAPI]]:
    shared = settings.model_copy(update={"complete_wait_seconds": 1.0})
    first, second = create_app(shared), create_app(shared)
    async with first.router.lifespan_context(first), second.router.lifespan_context(second):
        yield first, second


@pytest.fixture
async def replicas(apps: tuple[FastAPI, FastAPI]) -> AsyncIterator[Replicas]:
    first, second = (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://replica")
        for app in apps
    )
    async with first, second:
        yield first, second


async def settled(client: httpx.AsyncClient, upload_id: str) -> dict[str, Any]:
    """The upload once assembly ended (a replica that lost the race answered 202)."""
    for _ in range(200):
        upload = (await client.get(f"/api/v1/uploads/{upload_id}")).json()
        if upload["state"] != "assembling":
            return dict(upload)
        await asyncio.sleep(0.05)
    pytest.fail("assembly did not end")


async def test_the_same_part_recorded_at_once_by_two_replicas(
    apps: tuple[FastAPI, FastAPI], replicas: Replicas
) -> None:
    """The ledger write itself, many times at once from two connection pools."""
    upload = await create(replicas[0], b"x" * 100)
    repos = [app.state.services.repo for app in apps]
    part = Part(number=0, offset=0, size=100, etag=None)
    expires = datetime.now(UTC) + timedelta(hours=1)
    await asyncio.gather(*(repo.record_part(upload["id"], part, expires) for repo in repos * 10))
    status = (await replicas[1].get(f"/api/v1/uploads/{upload['id']}")).json()
    assert status["received_chunks"] == [0]
    assert status["bytes_received"] == 100


async def test_the_same_chunks_sent_to_both_replicas_at_once(replicas: Replicas) -> None:
    data = bytes(range(256)) * 1024  # 4 chunks of 64 KiB
    upload = await create(replicas[0], data)
    url = f"/api/v1/uploads/{upload['id']}/chunks"
    for index, piece in enumerate(chunks_of(data, upload["chunk_size"])):
        answers = await asyncio.gather(
            *(client.put(f"{url}/{index}", content=piece) for client in replicas * 3)
        )
        assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
    status = (await replicas[1].get(f"/api/v1/uploads/{upload['id']}")).json()
    assert status["missing_chunks"] == []
    assert status["bytes_received"] == len(data)
    done = await replicas[1].post(f"/api/v1/uploads/{upload['id']}/complete")
    assert done.status_code == 201, done.text
    assert done.json()["sha256"] == hashlib.sha256(data).hexdigest()


async def test_two_replicas_completing_at_once_make_one_file(replicas: Replicas) -> None:
    data = b"filedock" * 50_000
    upload = await create(replicas[0], data)
    await send(replicas[1], upload, data)
    answers = await asyncio.gather(
        *(client.post(f"/api/v1/uploads/{upload['id']}/complete") for client in replicas * 2)
    )
    assert {a.status_code for a in answers} <= {201, 202}, [a.text for a in answers]
    file_ids = {a.json()["id"] for a in answers if a.status_code == 201}
    upload_after = await settled(replicas[0], upload["id"])
    assert upload_after["state"] == "completed"
    assert file_ids <= {upload_after["file_id"]}
    for client in replicas:
        listed = (await client.get("/api/v1/files")).json()
        assert [f["id"] for f in listed["items"]] == [upload_after["file_id"]]
        content = await client.get(f"/api/v1/files/{upload_after['file_id']}/content")
        assert content.content == data


async def test_files_with_one_name_made_at_once_on_both_replicas(replicas: Replicas) -> None:
    payloads = [bytes([n]) * (70_000 + n) for n in range(6)]

    async def one(client: httpx.AsyncClient, data: bytes) -> dict[str, Any]:
        upload = await create(client, data, filename="report.pdf")
        await send(client, upload, data)
        done = await client.post(f"/api/v1/uploads/{upload['id']}/complete")
        assert done.status_code in (201, 202), done.text
        return await settled(client, upload["id"])

    uploads = await asyncio.gather(*(one(replicas[n % 2], data) for n, data in enumerate(payloads)))
    assert len({u["file_id"] for u in uploads}) == len(payloads)
    listed = (await replicas[0].get("/api/v1/files", params={"prefix": "report"})).json()
    assert sorted(f["name"] for f in listed["items"]) == ["report.pdf"] * len(payloads)
    for upload, data in zip(uploads, payloads, strict=True):
        content = await replicas[1].get(f"/api/v1/files/{upload['file_id']}/content")
        assert content.content == data
