"""Tenant quotas over the native API: at creation, while bytes arrive, at completion."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from tests.helpers import create, send, set_limits, upload_file

KiB = 1024
CHUNK = 64 * KiB  # the test settings' default chunk size
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)
PDF = b"%PDF-1.7\n" + bytes(200)


async def _usage(client: httpx.AsyncClient) -> dict[str, int]:
    answer = await client.get("/api/v1/usage")
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.databases
async def test_creation_over_the_quota_is_413_naming_the_numbers(
    app: FastAPI, client: httpx.AsyncClient, payload: Callable[[int], bytes]
) -> None:
    """Files, declared uploads (whole) and uploads of unknown length (what arrived) count."""
    await upload_file(client, payload(100 * KiB))
    await create(client, None, size=50 * KiB)  # reserves 50 KiB, nothing sent yet
    unknown = await create(client, None)
    put = await client.put(f"/api/v1/uploads/{unknown['id']}/chunks/0", content=payload(10 * KiB))
    assert put.status_code == 200, put.text
    await set_limits(app, max_bytes=200 * KiB)

    refused = await client.post("/api/v1/uploads", json={"filename": "x", "size": 41 * KiB})
    assert refused.status_code == 413, refused.text
    assert refused.json()["code"] == "quota_exceeded"
    assert refused.json()["details"] == {
        "quota": "max_bytes",
        "used": 160 * KiB,
        "requested": 41 * KiB,
        "limit": 200 * KiB,
    }
    assert (await create(client, None, size=40 * KiB))["size"] == 40 * KiB  # fits exactly
    usage = await _usage(client)
    assert (usage["bytes_used"], usage["staged_bytes"]) == (200 * KiB, 100 * KiB)
    assert (usage["files"], usage["uploads"]) == (1, 3)


async def test_file_size_and_file_count_limits_at_creation(
    app: FastAPI, client: httpx.AsyncClient, payload: Callable[[int], bytes]
) -> None:
    await upload_file(client, payload(KiB))
    upload = await create(client, None, size=10)
    await set_limits(app, max_files=2, max_file_size=1000)

    too_big = await client.post("/api/v1/uploads", json={"filename": "x", "size": 1001})
    assert too_big.status_code == 413
    assert too_big.json()["details"] == {
        "quota": "max_file_size",
        "used": 0,
        "requested": 1001,
        "limit": 1000,
    }
    too_many = await client.post("/api/v1/uploads", json={"filename": "x", "size": 5})
    assert too_many.status_code == 413
    details = too_many.json()["details"]
    assert details == {"quota": "max_files", "used": 2, "requested": 1, "limit": 2}
    assert (await client.delete(f"/api/v1/uploads/{upload['id']}")).status_code == 204
    assert (await create(client, None, size=5))["size"] == 5  # the aborted upload freed its slot


async def test_a_declared_type_outside_the_allowed_ones_is_415(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await set_limits(app, allowed_types=("image/*", "video/mp4"))
    refused = await client.post(
        "/api/v1/uploads", json={"filename": "a.pdf", "size": 10, "content_type": "application/pdf"}
    )
    assert refused.status_code == 415, refused.text
    assert refused.json()["code"] == "type_not_allowed"
    assert refused.json()["details"] == {
        "content_type": "application/pdf",
        "allowed_types": ["image/*", "video/mp4"],
    }
    await create(client, None, size=10, content_type="image/png")
    await create(client, None, size=10, content_type="video/mp4; codecs=avc1")
    await create(client, None, size=10)  # no type declared: the bytes decide at completion


async def test_completion_checks_the_type_the_first_bytes_show(
    app: FastAPI, client: httpx.AsyncClient, payload: Callable[[int], bytes]
) -> None:
    await set_limits(app, allowed_types=("image/*", "application/zip"))
    disguised = await create(client, PDF, filename="cat.png", content_type="image/png")
    await send(client, disguised, PDF)
    refused = await client.post(f"/api/v1/uploads/{disguised['id']}/complete")
    assert refused.status_code == 415, refused.text
    assert refused.json()["code"] == "type_not_allowed"
    status = (await client.get(f"/api/v1/uploads/{disguised['id']}")).json()
    assert status["state"] == "failed" and "application/pdf" in status["error"]

    png = await upload_file(client, PNG, filename="cat")  # no type declared: the bytes say
    assert png["size"] == len(PNG)
    noise = await upload_file(client, payload(KiB), content_type="image/x-raw")  # no signature
    assert noise["content_type"] == "image/x-raw"  # nothing sniffed: the declared type holds
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("a.txt", "hi")  # its signature is also a .docx's: one allowed suffices
    await upload_file(client, archive.getvalue(), filename="a.zip")
    usage = await _usage(client)
    assert (usage["files"], usage["staged_bytes"]) == (3, 0)  # the refused bytes were freed


async def test_bytes_of_unknown_length_stop_at_the_quota_and_resume_once_raised(
    app: FastAPI, client: httpx.AsyncClient, payload: Callable[[int], bytes]
) -> None:
    """A chunk that would cross the quota is refused whole; the upload stays resumable."""
    data = payload(2 * CHUNK)
    upload = await create(client, None)
    chunk = f"/api/v1/uploads/{upload['id']}/chunks"
    await set_limits(app, max_bytes=100 * KiB)
    assert (await client.put(f"{chunk}/0", content=data[:CHUNK])).status_code == 200

    refused = await client.put(f"{chunk}/1", content=data[CHUNK:])
    assert refused.status_code == 413, refused.text
    assert refused.json()["details"] == {
        "quota": "max_bytes",
        "used": CHUNK,
        "requested": CHUNK,
        "limit": 100 * KiB,
    }
    status = (await client.get(f"/api/v1/uploads/{upload['id']}")).json()
    assert status["received_chunks"] == [0]

    await set_limits(app, max_bytes=1024 * KiB)
    assert (await client.put(f"{chunk}/1", content=data[CHUNK:])).status_code == 200
    done = await client.post(f"/api/v1/uploads/{upload['id']}/complete", json={"size": len(data)})
    assert done.status_code == 201, done.text
    assert (await client.get(f"/api/v1/files/{done.json()['id']}/content")).content == data
