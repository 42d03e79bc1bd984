"""Fixtures for access-control tests: an app that requires credentials, and its keys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from filedock.app import create_app
from filedock.settings import Settings


@dataclass(frozen=True)
class Keys:
    alice: str  # acme, read+write: owns the resources under test
    carol: str  # acme, read+write: another user of the same tenant
    reader: str  # acme, read only
    admin: str  # acme, admin
    stranger: str  # evil, admin of another tenant
    revoked: str  # acme, read+write, revoked
    expired: str  # acme, read+write, expired


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def secured_settings(settings: Settings) -> Settings:
    """The suite's usual settings, with every request needing a credential."""
    return settings.model_copy(update={"auth": "required", "complete_wait_seconds": 5})


@pytest.fixture
async def secured_app(secured_settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(secured_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def keys(secured_app: FastAPI) -> Keys:
    service = secured_app.state.services.keys

    async def make(tenant: str, user: str, scopes: str) -> str:
        return (await service.create(tenant=tenant, user=user, scopes=scopes))[1]

    revoked_key, revoked = await service.create(tenant="acme", user="alice", scopes="read,write")
    await service.revoke(revoked_key.id, None)
    _, expired = await service.create(
        tenant="acme", user="alice", scopes="read,write", expires_in=timedelta(microseconds=1)
    )
    return Keys(
        alice=await make("acme", "alice", "read,write"),
        carol=await make("acme", "carol", "read,write"),
        reader=await make("acme", "alice", "read"),
        admin=await make("acme", "root", "admin"),
        stranger=await make("evil", "mallory", "admin"),
        revoked=revoked,
        expired=expired,
    )


@pytest.fixture
async def secured_client(secured_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=secured_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://filedock.test") as c:
        yield c
