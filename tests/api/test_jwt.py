"""JWTs from an identity provider: real signed tokens (HS256, RS256), and every refusal."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from filedock.app import create_app
from filedock.settings import Settings

SECRET = "s3cret-shared-with-the-identity-provider-0123456789"
ISSUER, AUDIENCE = "https://idp.example", "filedock"


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "sub": "alice",
        "tenant": "acme",
        "scope": "read write",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 300,
    }
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


async def _client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client


def _settings(tmp_path: Path, **jwt_settings: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "data",
        fsync=False,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        **jwt_settings,
    )


@pytest.fixture
async def hs_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(_settings(tmp_path, jwt_secret=SECRET)):
        yield client


@pytest.fixture
async def rs_client(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> AsyncIterator[httpx.AsyncClient]:
    pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "idp.pem").write_bytes(pem)
    async for client in _client(_settings(tmp_path, jwt_public_key_file=tmp_path / "idp.pem")):
        yield client


async def _create(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(
        "/api/v1/uploads",
        json={"filename": "a.bin", "size": 1},
        headers={"Authorization": f"Bearer {token}"},
    )


async def test_an_hs256_token_acts_as_its_subject_in_its_tenant(
    hs_client: httpx.AsyncClient,
) -> None:
    made = await _create(hs_client, jwt.encode(claims(), SECRET, algorithm="HS256"))
    assert made.status_code == 201, made.text
    upload_id = made.json()["id"]
    other_user = jwt.encode(claims(sub="bob"), SECRET, algorithm="HS256")
    seen = await hs_client.get(
        f"/api/v1/uploads/{upload_id}", headers={"Authorization": f"Bearer {other_user}"}
    )
    assert seen.status_code == 404  # bob's token does not see alice's upload
    anonymous = await hs_client.get(f"/api/v1/uploads/{upload_id}")
    assert anonymous.status_code == 401  # a configured JWT closes auto's open door


async def test_an_rs256_token_is_accepted_with_the_public_key(
    rs_client: httpx.AsyncClient, rsa_key: rsa.RSAPrivateKey
) -> None:
    made = await _create(rs_client, jwt.encode(claims(), rsa_key, algorithm="RS256"))
    assert made.status_code == 201, made.text


async def test_a_read_scope_token_cannot_write(hs_client: httpx.AsyncClient) -> None:
    token = jwt.encode(claims(scope="read"), SECRET, algorithm="HS256")
    refused = await _create(hs_client, token)
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"


def _none_token() -> str:
    header = jwt.utils.base64url_encode(b'{"alg":"none","typ":"JWT"}').decode()
    body = jwt.utils.base64url_encode(jwt.api_jws.json.dumps(claims()).encode()).decode()
    return f"{header}.{body}."


REFUSED_HS = {
    "expired": lambda: jwt.encode(claims(exp=int(time.time()) - 60), SECRET, algorithm="HS256"),
    "not yet valid": lambda: jwt.encode(
        claims(nbf=int(time.time()) + 600), SECRET, algorithm="HS256"
    ),
    "wrong audience": lambda: jwt.encode(claims(aud="someone-else"), SECRET, algorithm="HS256"),
    "wrong issuer": lambda: jwt.encode(
        claims(iss="https://evil.example"), SECRET, algorithm="HS256"
    ),
    "alg none": _none_token,
    "wrongly signed": lambda: jwt.encode(claims(), SECRET + "x", algorithm="HS256"),
    "no tenant": lambda: jwt.encode(claims(tenant=None), SECRET, algorithm="HS256"),
    "no expiry": lambda: jwt.encode(claims(exp=None), SECRET, algorithm="HS256"),
    "garbage": lambda: "not.a.token",
}


@pytest.mark.parametrize("case", sorted(REFUSED_HS))
async def test_a_bad_token_is_refused(hs_client: httpx.AsyncClient, case: str) -> None:
    refused = await _create(hs_client, REFUSED_HS[case]())
    assert refused.status_code == 401, refused.text
    assert refused.json()["code"] == "unauthenticated"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")


async def test_an_rs256_verifier_refuses_an_hs256_token_signed_with_its_public_key(
    rs_client: httpx.AsyncClient, rsa_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    """The key-confusion attack: the public key used as an HMAC secret."""
    forged = jwt.api_jws.PyJWS().encode(
        jwt.api_jws.json.dumps(claims()).encode(),
        key=b"not-the-public-key-but-the-attack-shape-is-the-same-0123456789",
        algorithm="HS256",
    )
    assert (await _create(rs_client, forged)).status_code == 401
    wrong_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = jwt.encode(claims(), wrong_key, algorithm="RS256")
    assert (await _create(rs_client, other)).status_code == 401
