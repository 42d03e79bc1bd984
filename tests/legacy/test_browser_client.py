"""The document-000 browser client: JSON init and completion, FormData chunks."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.legacy.seed import API, error_of, wait_status
from tests.realserver import ServerProcess

MiB = 1024 * 1024
SCRIPT = Path(__file__).with_name("browser_flow.mjs")


async def browser_init(client: httpx.AsyncClient, name: str, chunks: int) -> str:
    response = await client.post(
        f"{API}/upload/init/", json={"fileName": name, "totalChunks": chunks}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sessionId"] == body["data"]["sessionId"] == body["data"]["upload_id"]
    assert body["data"]["chunk_size"] == MiB  # what the client slices by
    return str(body["sessionId"])


async def browser_chunk(
    client: httpx.AsyncClient, session: str, index: int, piece: bytes
) -> httpx.Response:
    form = {"sessionId": session, "chunkIndex": str(index)}
    return await client.post(f"{API}/upload/chunk/", data=form, files={"chunk": ("blob", piece)})


async def test_the_browser_dialect_uploads_a_file(
    client: httpx.AsyncClient, payload: Callable[[int], bytes]
) -> None:
    data = payload(2 * MiB + 10)
    session = await browser_init(client, "café.mp4", 3)
    for index in (2, 0, 1):
        piece = data[index * MiB : (index + 1) * MiB]
        response = await browser_chunk(client, session, index, piece)
        assert response.json()["data"] == {"chunk_index": index, "upload_id": session}
    done = await client.post(f"{API}/upload/complete/", json={"sessionId": session})
    assert done.status_code == 200, done.text
    record = done.json()["data"]
    assert record["path"] == "public/café.mp4"
    assert record["content_type"] == "video/mp4"
    assert record["detail"] is None  # the announced chunk count is not file metadata
    await wait_status(client, record["id"], "SUCCESS")
    downloaded = await client.get(record["download_url"])
    assert downloaded.content == data


async def test_the_browser_client_cannot_complete_without_its_last_chunk(
    client: httpx.AsyncClient,
) -> None:
    session = await browser_init(client, "a.bin", 3)
    for index in (0, 1):
        assert (await browser_chunk(client, session, index, b"b" * MiB)).is_success
    done = await client.post(f"{API}/upload/complete/", json={"sessionId": session})
    assert "1 of the 3 chunks announced" in error_of(done, 422)["message"]


async def test_the_browser_dialect_reports_its_own_field_names(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(f"{API}/upload/init/", json={"fileName": "a.txt"})
    assert error_of(response, 422)["errors"] == ["[body->totalChunks] field required"]
    response = await client.post(f"{API}/upload/chunk/", data={"sessionId": "x"})
    assert error_of(response, 422)["errors"] == [
        "[body->chunkIndex] field required",
        "[body->chunk] field required",
    ]
    response = await client.post(f"{API}/upload/complete/", json={"sessionId": "nope"})
    error_of(response, 422)


@pytest.mark.server
@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node 20")
def test_document_000_client_runs_unchanged_in_node(server: ServerProcess) -> None:
    size = 3 * MiB + 512 * 1024  # four chunks, the last one half full
    run = subprocess.run(
        ["node", str(SCRIPT), server.url, str(size)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(run.stdout)
    assert result["size"] == size
    record = httpx.get(f"{server.url}/api/v1/files/{result['id']}").json()
    assert record["sha256"] == result["sha256"]
    assert record["name"] == "holiday video.mp4"
