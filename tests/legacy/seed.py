"""A client of the original file-management service, as its users wrote them (httpx)."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import httpx

from tests.helpers import chunks_of

API = "/api/v1/file"


async def init(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.post(f"{API}/upload/init/")
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def send_chunk(
    client: httpx.AsyncClient, upload_id: str, index: int, piece: bytes, **fields: Any
) -> httpx.Response:
    data = {"upload_id": upload_id, "chunk_index": index, "chunk_size": len(piece), **fields}
    files = {"file": (f"segment{index}", piece, "application/octet-stream")}
    return await client.post(f"{API}/upload/chunk/", data=data, files=files)


async def send_all(
    client: httpx.AsyncClient, upload_id: str, data: bytes, chunk_size: int, seed: int = 7
) -> int:
    """Every chunk, in a shuffled order; returns how many."""
    pieces = list(enumerate(chunks_of(data, chunk_size)))
    random.Random(seed).shuffle(pieces)
    for index, piece in pieces:
        response = await send_chunk(client, upload_id, index, piece)
        assert response.status_code == 200, response.text
    return len(pieces)


def complete_form(upload_id: str, data: bytes, chunk_size: int, **extra: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "upload_id": upload_id,
        "total_chunks": len(chunks_of(data, chunk_size)),
        "total_size": len(data),
        "file_extension": "mp4",
        "content_type": "video/mp4",
    }
    for name in ("credential", "detail"):
        if isinstance(extra.get(name), dict):
            extra[name] = json.dumps(extra[name])
    return form | extra


async def complete(
    client: httpx.AsyncClient, upload_id: str, data: bytes, chunk_size: int, **extra: Any
) -> dict[str, Any]:
    form = complete_form(upload_id, data, chunk_size, **extra)
    response = await client.post(f"{API}/upload/complete/", data=form)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def upload(
    client: httpx.AsyncClient, data: bytes, **extra: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """init, every chunk shuffled, complete: (init's data, complete's file object)."""
    started = await init(client)
    await send_all(client, started["upload_id"], data, started["chunk_size"])
    done = await complete(client, started["upload_id"], data, started["chunk_size"], **extra)
    return started, done


async def wait_status(
    client: httpx.AsyncClient, file_id: str, wanted: str, params: Any = None, timeout: float = 10
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await client.get(f"{API}/status/{file_id}", params=params)
        assert response.status_code == 200, response.text
        status = response.json()["data"]["status"]
        if status == wanted:
            return
        assert asyncio.get_running_loop().time() < deadline, f"status stayed {status}"
        await asyncio.sleep(0.02)


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """The original's error envelope, with `status`."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"errors", "message", "success"}, body
    assert body["success"] is False
    assert isinstance(body["errors"], list)
    return body
