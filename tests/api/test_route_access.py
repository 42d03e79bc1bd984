"""Every route of the app, called as a stranger: nothing opens without the right credential.

The test walks `app.routes`, so a route added without access control fails it: either it
lets an anonymous, revoked or expired caller in, or another tenant sees or changes this
tenant's upload or file, or a read-only key writes. Routes open without a credential are
named in OPEN: opening another is a visible decision made here.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.routing import Mount, Route

from tests.api.conftest import Keys, bearer

# Operations, the API docs and the OpenAPI schema; tus OPTIONS answers CORS preflights,
# which browsers send without credentials; a share link's token is its own credential.
OPEN = {
    ("GET", "/s/{token}"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/redoc"),
    ("GET", "/"),  # the web app's pages: static, their data calls carry the principal
    ("GET", "/admin"),
    ("OPTIONS", "/files/"),
    ("OPTIONS", "/files"),
    ("OPTIONS", "/files/{upload_id}"),
}
OPEN_MOUNTS = {"/ui"}  # the web app's static files (scripts, styles, vendored docs)
ADMIN_ONLY = re.compile(r"^/api/v1/keys")
SAFE = {"GET", "HEAD", "OPTIONS"}
JSON_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/uploads"): {"filename": "x.bin", "size": 1},
    ("PATCH", "/api/v1/files/{file_id}"): {"name": "stolen.bin"},
    ("POST", "/api/v1/keys"): {"user": "x", "scopes": "read"},
    ("POST", "/api/v1/files/{file_id}/shares"): {"expires_in": 60},
}
TUS = {"Tus-Resumable": "1.0.0"}


class Resources:
    """Things alice (tenant acme) owns, which every refusal below must protect."""

    def __init__(self, upload: str, tus_upload: str, file: str, key: str, share: str) -> None:
        self.upload, self.tus_upload, self.file, self.key = upload, tus_upload, file, key
        self.share = share

    def ids(self) -> set[str]:
        return {self.upload, self.tus_upload, self.file}


async def _resources(client: httpx.AsyncClient, app: FastAPI, keys: Keys) -> Resources:
    alice = bearer(keys.alice)
    made = await client.post(
        "/api/v1/uploads", json={"filename": "a.bin", "size": 10}, headers=alice
    )
    upload = made.json()["id"]
    done = await client.post(
        "/api/v1/uploads", json={"filename": "f.bin", "size": 4}, headers=alice
    )
    assert (
        await client.put(
            f"/api/v1/uploads/{done.json()['id']}/chunks/0", content=b"data", headers=alice
        )
    ).status_code == 200
    completed = await client.post(f"/api/v1/uploads/{done.json()['id']}/complete", headers=alice)
    assert completed.status_code == 201, completed.text
    tus = await client.post("/files/", headers={**alice, **TUS, "Upload-Length": "10"})
    assert tus.status_code == 201, tus.text
    acme_keys = await app.state.services.keys.listed("acme")
    assert acme_keys
    shared = await client.post(
        f"/api/v1/files/{completed.json()['id']}/shares", json={"expires_in": 3600}, headers=alice
    )
    assert shared.status_code == 201, shared.text
    return Resources(
        upload,
        tus.headers["Location"].rsplit("/", 1)[1],
        completed.json()["id"],
        acme_keys[0].id,
        shared.json()["id"],
    )


def _routes(routes: list[Any], prefix: str = "") -> list[tuple[str, str]]:
    """(method, path) of every HTTP route, inside included routers too."""
    found: list[tuple[str, str]] = []
    for route in routes:
        if isinstance(route, Route):
            found += [(method, prefix + route.path) for method in sorted(route.methods or ())]
        elif isinstance(route, Mount) and route.path in OPEN_MOUNTS:
            continue
        elif hasattr(route, "original_router"):  # FastAPI's record of include_router()
            found += _routes(route.original_router.routes, prefix + route.include_context.prefix)
        else:
            raise AssertionError(f"{type(route).__name__}: a non-HTTP route needs its own test")
    return found


def _request(method: str, path: str, res: Resources) -> dict[str, Any]:
    """The request for a route, aimed at alice's resources; seed routes name them in forms."""
    upload = res.tus_upload if path.startswith("/files") else res.upload
    url = path.format(
        upload_id=upload, file_id=res.file, index=0, key_id=res.key, share_id=res.share
    )
    request: dict[str, Any] = {"method": method, "url": url, "headers": dict(TUS)}
    if url.startswith("/api/v1/file/upload/chunk"):
        request["data"] = {"upload_id": res.upload, "chunk_index": "0", "chunk_size": "10"}
        request["files"] = {"file": ("c", b"0123456789")}
    elif url.startswith("/api/v1/file/upload/complete"):
        request["data"] = {
            "upload_id": res.upload,
            "total_chunks": "1",
            "total_size": "10",
            "file_extension": "bin",
            "content_type": "application/octet-stream",
        }
    elif url.startswith("/api/v1/file/upload/retry"):
        request["data"] = {"file_id": res.file}
    elif method == "PATCH" and url.startswith("/files/"):
        request["headers"] |= {
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        }
        request["content"] = b"x"
    elif method == "PUT":
        request["content"] = b"x"
    elif (method, path) in JSON_BODIES:
        request["json"] = JSON_BODIES[method, path]
    return request


def _aims_at_resource(request: dict[str, Any], res: Resources) -> bool:
    named = any(i in request["url"] for i in (*res.ids(), res.key, res.share))
    return named or ("data" in request and "upload/init" not in request["url"])


def _swap_ids(value: Any, res: Resources) -> Any:
    """The same request naming ids that exist nowhere."""
    if isinstance(value, str):
        for known in (*res.ids(), res.key, res.share):
            value = value.replace(known, "0" * 32)
        return value
    if isinstance(value, dict):
        return {k: _swap_ids(v, res) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_swap_ids(v, res) for v in value)
    return value


def _masked(text: str) -> str:
    return re.sub(r"[0-9a-f]{32}", "<id>", text)


def _open(method: str, path: str) -> bool:
    return ("GET" if method == "HEAD" else method, path) in OPEN


async def test_every_route_refuses_whoever_may_not_use_it(
    secured_client: httpx.AsyncClient, secured_app: FastAPI, keys: Keys
) -> None:
    client = secured_client
    res = await _resources(client, secured_app, keys)
    routes = [r for r in _routes(secured_app.routes) if not _open(*r)]
    assert len(routes) > 20  # the walk found the app's routes
    checked: list[str] = []
    for method, path in routes:
        request = _request(method, path, res)
        label = f"{method} {path}"
        for key in (None, keys.revoked, keys.expired, "fdk_forged", "not-a-key"):
            headers = request["headers"] | (bearer(key) if key else {})
            answer = await client.request(**{**request, "headers": headers})
            assert answer.status_code == 401, f"{label} let {key!r} in: {answer.status_code}"
            assert answer.headers["WWW-Authenticate"].startswith("Bearer"), label
        reader = await client.request(
            **{**request, "headers": request["headers"] | bearer(keys.reader)}
        )
        if method not in SAFE or ADMIN_ONLY.match(path):
            assert reader.status_code == 403, f"{label}: a read-only key got {reader.status_code}"
        else:
            assert reader.status_code not in (401, 403), f"{label}: {reader.text}"
        stranger = await client.request(
            **{**request, "headers": request["headers"] | bearer(keys.stranger)}
        )
        if _aims_at_resource(request, res):
            missing = await client.request(
                **{**_swap_ids(request, res), "headers": request["headers"] | bearer(keys.stranger)}
            )
            assert stranger.status_code in (404, 422), f"{label}: {stranger.status_code}"
            assert (stranger.status_code, _masked(stranger.text)) == (
                missing.status_code,
                _masked(missing.text),
            ), f"{label}: another tenant's answer differs from a missing id's"
        else:
            assert not res.ids() & set(re.findall(r"[0-9a-f]{32}", stranger.text)), label
        checked.append(label)
    assert "PUT /api/v1/uploads/{upload_id}/chunks/{index}" in checked
    assert "PATCH /files/{upload_id}" in checked
    # alice's things are untouched by all of the above
    alice = bearer(keys.alice)
    assert (await client.get(f"/api/v1/uploads/{res.upload}", headers=alice)).json()[
        "received_chunks"
    ] == []
    assert (await client.get(f"/api/v1/files/{res.file}/content", headers=alice)).content == b"data"


@pytest.mark.parametrize("path", sorted(p for m, p in OPEN if m == "GET" and "{" not in p))
async def test_open_routes_answer_without_a_credential(
    secured_client: httpx.AsyncClient, path: str
) -> None:
    assert (await secured_client.get(path)).status_code == 200
