"""Private files: the same credential opens them; their bytes go through signed links."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from filedock.app import create_app
from filedock.core.access import load_secret
from filedock.settings import Settings
from tests.legacy.seed import API, complete, error_of, upload, wait_status

KiB = 1024
CREDENTIAL = {"user_id": 84793, "page_id": 100}
AS_QUERY = {"user_id": "84793", "page_id": "100"}


async def private_file(
    client: httpx.AsyncClient, data: bytes
) -> tuple[dict[str, object], dict[str, str]]:
    started, done = await upload(client, data, credential=CREDENTIAL)
    await wait_status(client, str(done["id"]), "SUCCESS", params=AS_QUERY)
    return started, done  # type: ignore[return-value]


async def test_a_credential_makes_the_file_private(
    client: httpx.AsyncClient, app: FastAPI, payload: Callable[[int], bytes]
) -> None:
    data = payload(150 * KiB)
    _, done = await private_file(client, data)
    assert done["credential"] == AS_QUERY  # values as text, as the original answered
    assert done["path"].startswith("private/")
    url = urlsplit(done["download_url"])
    assert url.path == f"/api/v1/files/{done['id']}/content"
    assert set(parse_qs(url.query)) == {"expires", "signature"}
    record = await app.state.services.repo.get_file(done["id"])
    assert record.credential_hash.startswith("sha256$")  # only a salted hash is kept
    assert "84793" not in record.credential_hash


async def test_reading_a_private_file_needs_its_credential(
    client: httpx.AsyncClient, payload: Callable[[int], bytes]
) -> None:
    _, done = await private_file(client, payload(10 * KiB))
    file_id = done["id"]
    for params in (None, {"user_id": "84793"}, {**AS_QUERY, "page_id": "101"}, {"x": "1"}):
        error_of(await client.get(f"{API}/get/{file_id}", params=params), 403)
        error_of(await client.get(f"{API}/status/{file_id}", params=params), 403)
    got = await client.get(f"{API}/get/{file_id}", params=AS_QUERY)
    assert got.status_code == 200
    assert got.json()["data"]["credential"] == AS_QUERY
    status = await client.get(f"{API}/status/{file_id}", params=AS_QUERY)
    assert status.json()["data"] == {"status": "SUCCESS"}
    for form in ({"file_id": file_id}, {"file_id": file_id, "credential": '{"user_id": 84793}'}):
        error_of(await client.post(f"{API}/upload/retry", data=form), 403)
    form = {"file_id": file_id, "credential": '{"page_id": "100", "user_id": 84793}'}
    error_of(await client.post(f"{API}/upload/retry", data=form), 409)  # opened; merged already


async def test_completing_a_private_upload_again_needs_its_credential(
    client: httpx.AsyncClient,
) -> None:
    data = b"p" * 1000
    started, done = await upload(client, data, credential=CREDENTIAL)
    form = {"upload_id": started["upload_id"], "total_chunks": 1, "total_size": len(data)}
    form |= {"file_extension": "txt", "content_type": "text/plain"}
    error_of(await client.post(f"{API}/upload/complete/", data=form), 403)
    again = await complete(
        client, started["upload_id"], data, started["chunk_size"], credential=CREDENTIAL
    )
    assert again["id"] == done["id"]


async def test_the_signed_link_downloads_and_nothing_else_does(
    client: httpx.AsyncClient, app: FastAPI, payload: Callable[[int], bytes]
) -> None:
    data = payload(100 * KiB + 7)
    _, done = await private_file(client, data)
    signed = await client.get(done["download_url"])
    assert signed.status_code == 200 and signed.content == data
    ranged = await client.get(done["download_url"], headers={"Range": "bytes=10-19"})
    assert ranged.status_code == 206 and ranged.content == data[10:20]
    plain = f"/api/v1/files/{done['id']}/content"
    assert (await client.get(plain)).status_code == 403
    query = parse_qs(urlsplit(done["download_url"]).query)
    expires, signature = int(query["expires"][0]), query["signature"][0]
    tampered = {"expires": expires, "signature": signature[:-2] + "AA"}
    forged = {"expires": expires + 3600, "signature": signature}
    for params in (tampered, forged, {"expires": expires}, {"signature": signature}):
        response = await client.get(plain, params=params)
        assert response.status_code == 403
        assert response.json()["code"] == "signature_invalid"
    past = int(datetime.now(UTC).timestamp()) - 1
    access = app.state.services.access
    expired = {"expires": past, "signature": access.signature(done["id"], past)}
    response = await client.get(plain, params=expired)
    assert response.status_code == 403
    assert "expired" in response.json()["message"]


async def test_a_public_file_downloads_without_a_signature(
    client: httpx.AsyncClient, payload: Callable[[int], bytes]
) -> None:
    data = payload(1000)
    _, done = await upload(client, data)
    await wait_status(client, done["id"], "SUCCESS")
    assert "?" not in done["download_url"]
    assert (await client.get(done["download_url"])).content == data
    bad = await client.get(done["download_url"], params={"expires": 1, "signature": "x"})
    assert bad.status_code == 403


async def test_signed_links_survive_a_restart(
    settings: Settings, payload: Callable[[int], bytes]
) -> None:
    data = payload(3000)
    links = []
    for _ in range(2):
        application = create_app(settings)
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
                if not links:
                    links.append((await private_file(client, data))[1]["download_url"])
                assert (await client.get(links[0])).content == data


def test_the_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = load_secret(None, tmp_path)
    assert len(first) == 64
    assert load_secret(None, tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert load_secret("configured", tmp_path) == b"configured"
    assert list(tmp_path.iterdir()) == [tmp_path / "secret_key"]  # no temporary left


@pytest.mark.parametrize("value", [True, 1.5, None, {"a": 1}])
async def test_credential_values_compare_as_their_json_text(
    client: httpx.AsyncClient, value: object
) -> None:
    _, done = await upload(client, b"v" * 10, credential={"k": value})
    text = done["credential"]["k"]
    assert (await client.get(f"{API}/get/{done['id']}", params={"k": text})).status_code == 200
