"""Shared fixtures: an app per settings object, an HTTP client over ASGI, test data."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from filedock.app import create_app
from filedock.settings import Settings

KiB = 1024


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "data",
        database_url=database_url,
        default_chunk_size=64 * KiB,
        max_chunk_size=1024 * KiB,
        max_file_size=64 * 1024 * KiB,
        fsync=False,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://filedock.test") as c:
        yield c


@pytest.fixture
def payload() -> Callable[[int], bytes]:
    return os.urandom


pytest_plugins = ["tests.realserver", "tests.databases"]
