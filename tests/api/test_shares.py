"""Share links over HTTP: a URL that downloads without a key until it expires, is revoked
or is used up; only its hash is stored; tenants and scopes rule who makes them."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from filedock.db.tables import shares
from tests.helpers import upload_file
from tests.legacy.seed import upload as seed_upload
from tests.legacy.seed import wait_status

pytestmark = pytest.mark.databases  # the counting UPDATE must hold on every database

NAME = "rapport annuel 2026.pdf"
CREDENTIAL = {"user_id": 84793, "page_id": 100}


async def bearer(app: FastAPI, tenant: str = "default", scopes: str = "read,write") -> dict:
    """Headers with a fresh key; the first key also ends anonymous access (auto mode)."""
    _, secret = await app.state.services.keys.create(tenant=tenant, user="alice", scopes=scopes)
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
async def stored(client: httpx.AsyncClient, payload: Callable[[int], bytes]) -> tuple[dict, bytes]:
    """A file of tenant `default`, uploaded while the server is still open (no key yet)."""
    data = payload(200_000)
    return await upload_file(client, data, filename=NAME, content_type="application/pdf"), data


async def share(
    client: httpx.AsyncClient, file_id: str, headers: dict, **body: Any
) -> dict[str, Any]:
    body.setdefault("expires_in", "1d")
    response = await client.post(f"/api/v1/files/{file_id}/shares", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def path_of(link: dict[str, Any]) -> str:
    return urlsplit(link["url"]).path


def gone(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 410, response.text
    assert response.json()["code"] == "share_gone"
    assert response.json()["details"]["reason"] == reason


async def test_a_link_downloads_without_a_key_with_ranges_and_etag(
    client: httpx.AsyncClient, app: FastAPI, stored: tuple[dict, bytes]
) -> None:
    record, data = stored
    writer = await bearer(app)
    assert (await client.get(f"/api/v1/files/{record['id']}")).status_code == 401
    link = await share(client, record["id"], writer)
    assert link["url"].startswith("http://filedock.test/s/")
    assert (link["downloads"], link["max_downloads"], link["state"]) == (0, None, "active")
    expires = datetime.fromisoformat(link["expires_at"])
    assert abs(expires - (datetime.now(UTC) + timedelta(days=1))) < timedelta(minutes=1)

    whole = await client.get(path_of(link))
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["content-type"] == "application/pdf"
    assert "rapport%20annuel%202026.pdf" in whole.headers["content-disposition"]
    native = await client.head(f"/api/v1/files/{record['id']}/content", headers=writer)
    assert whole.headers["etag"] == native.headers["etag"]
    part = await client.get(path_of(link), headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == data[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(data)}"
    head = await client.head(path_of(link))
    assert (head.status_code, head.headers["content-length"]) == (200, str(len(data)))
    cached = await client.get(path_of(link), headers={"If-None-Match": whole.headers["etag"]})
    assert cached.status_code == 304 and cached.content == b""

    listed = await client.get(f"/api/v1/files/{record['id']}/shares", headers=writer)
    assert listed.status_code == 200
    [item] = listed.json()["items"]
    assert (item["id"], item["downloads"], item["created_by"]) == (link["id"], 2, "alice")
    token = path_of(link).rsplit("/", 1)[1]
    assert token not in listed.text and "url" not in item  # the token is shown once
    async with app.state.services.engine.connect() as conn:
        rows = (await conn.execute(select(shares))).mappings().all()
    assert [r["token_hash"] for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in json.dumps([dict(r) for r in rows], default=str)


async def test_max_downloads_is_never_exceeded_by_racing_downloads(
    client: httpx.AsyncClient, app: FastAPI, stored: tuple[dict, bytes]
) -> None:
    record, data = stored
    writer = await bearer(app)
    link = await share(client, record["id"], writer, max_downloads=3, expires_in=3600)
    answers = await asyncio.gather(*(client.get(path_of(link)) for _ in range(12)))
    served = [r for r in answers if r.status_code == 200]
    assert len(served) == 3 and all(r.content == data for r in served)
    for refused in (r for r in answers if r.status_code != 200):
        gone(refused, "used_up")
    assert (await client.head(path_of(link))).status_code == 410
    [item] = (await client.get(f"/api/v1/files/{record['id']}/shares", headers=writer)).json()[
        "items"
    ]
    assert (item["downloads"], item["state"]) == (3, "used_up")


async def test_expired_and_revoked_links_answer_410(
    client: httpx.AsyncClient, app: FastAPI, stored: tuple[dict, bytes]
) -> None:
    record, _ = stored
    writer = await bearer(app)
    brief = await share(client, record["id"], writer, expires_in=1)
    revoked = await share(client, record["id"], writer, expires_in="12h")
    assert (await client.get(path_of(revoked))).status_code == 200
    assert (
        await client.delete(f"/api/v1/shares/{revoked['id']}", headers=writer)
    ).status_code == 204
    gone(await client.get(path_of(revoked)), "revoked")
    assert (
        await client.delete(f"/api/v1/shares/{revoked['id']}", headers=writer)
    ).status_code == 204
    await asyncio.sleep(1.1)
    gone(await client.get(path_of(brief)), "expired")
    states = {
        i["id"]: i["state"]
        for i in (await client.get(f"/api/v1/files/{record['id']}/shares", headers=writer)).json()[
            "items"
        ]
    }
    assert states == {brief["id"]: "expired", revoked["id"]: "revoked"}


async def test_a_forged_token_or_a_deleted_file_answers_404(
    client: httpx.AsyncClient, app: FastAPI, stored: tuple[dict, bytes]
) -> None:
    record, _ = stored
    writer = await bearer(app)
    link = await share(client, record["id"], writer)
    forged = path_of(link)[:-4] + "AAAA"
    for response in (
        await client.get(forged),
        await client.get("/s/nothing-here"),
        await client.get("/s/" + "x" * 500),
    ):
        assert (response.status_code, response.json()["code"]) == (404, "share_not_found")
    assert (await client.delete(f"/api/v1/files/{record['id']}", headers=writer)).status_code == 204
    assert (await client.get(path_of(link))).json()["code"] == "share_not_found"
    missing = await client.delete("/api/v1/shares/0123456789abcdef", headers=writer)
    assert (missing.status_code, missing.json()["code"]) == (404, "share_not_found")


async def test_another_tenant_sees_neither_the_file_nor_its_links(
    client: httpx.AsyncClient, app: FastAPI, stored: tuple[dict, bytes]
) -> None:
    record, _ = stored
    link = await share(client, record["id"], await bearer(app))
    stranger = await bearer(app, tenant="other", scopes="admin")
    created = await client.post(
        f"/api/v1/files/{record['id']}/shares", json={"expires_in": 60}, headers=stranger
    )
    listed = await client.get(f"/api/v1/files/{record['id']}/shares", headers=stranger)
    for response in (created, listed):
        assert (response.status_code, response.json()["code"]) == (404, "file_not_found")
    revoked = await client.delete(f"/api/v1/shares/{link['id']}", headers=stranger)
    assert (revoked.status_code, revoked.json()["code"]) == (404, "share_not_found")
    assert (await client.get(path_of(link))).status_code == 200  # still alive


async def test_creating_and_revoking_need_the_write_scope(
    client: httpx.AsyncClient, app: FastAPI, stored: tuple[dict, bytes]
) -> None:
    record, _ = stored
    link = await share(client, record["id"], await bearer(app))
    reader = await bearer(app, scopes="read")
    url = f"/api/v1/files/{record['id']}/shares"
    for response in (
        await client.post(url, json={"expires_in": 60}, headers=reader),
        await client.delete(f"/api/v1/shares/{link['id']}", headers=reader),
    ):
        assert (response.status_code, response.json()["code"]) == (403, "insufficient_scope")
    assert (await client.get(url, headers=reader)).status_code == 200
    anonymous = await client.post(url, json={"expires_in": 60})
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")


async def test_a_bad_request_is_422(
    client: httpx.AsyncClient, app: FastAPI, stored: tuple[dict, bytes]
) -> None:
    record, _ = stored
    writer = await bearer(app)
    for body in (
        {"expires_in": "soon"},
        {"expires_in": 0},
        {"expires_in": "400d"},
        {"expires_in": 10**30},
        {"expires_in": "99999999999999999999w"},
        {"expires_in": 60, "max_downloads": 0},
        {"expires_in": True},
        {"max_downloads": 2},
        {"expires_in": 60, "token": "mine"},
    ):
        response = await client.post(
            f"/api/v1/files/{record['id']}/shares", json=body, headers=writer
        )
        assert (response.status_code, response.json()["code"]) == (422, "invalid_request"), body


async def test_a_private_file_is_shared_only_with_its_credential_or_by_an_admin(
    client: httpx.AsyncClient, app: FastAPI, payload: Callable[[int], bytes]
) -> None:
    data = payload(50_000)
    as_query = {k: str(v) for k, v in CREDENTIAL.items()}
    _, done = await seed_upload(client, data, credential=CREDENTIAL)
    await wait_status(client, str(done["id"]), "SUCCESS", params=as_query)
    writer, admin = await bearer(app), await bearer(app, scopes="admin")
    url = f"/api/v1/files/{done['id']}/shares"
    refused = await client.post(url, json={"expires_in": 60}, headers=writer)
    assert (refused.status_code, refused.json()["code"]) == (403, "access_denied")
    assert (await client.get(url, headers=writer)).status_code == 403
    with_credential = {**writer, "Filedock-Credential": json.dumps(CREDENTIAL)}
    for headers in (with_credential, admin):
        link = await share(client, str(done["id"]), headers, expires_in=60)
        assert (await client.get(path_of(link))).content == data


async def test_the_token_never_reaches_the_access_log(
    client: httpx.AsyncClient,
    app: FastAPI,
    stored: tuple[dict, bytes],
    caplog: pytest.LogCaptureFixture,
) -> None:
    record, _ = stored
    link = await share(client, record["id"], await bearer(app))
    token = path_of(link).rsplit("/", 1)[1]
    with caplog.at_level(logging.INFO, logger="filedock.access"):
        assert (await client.get(path_of(link))).status_code == 200
    assert "GET /s/<token> 200" in caplog.text and token not in caplog.text
