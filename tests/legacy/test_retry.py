"""A merge that fails reports FAILURE, never SUCCESS; retry re-runs it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from filedock.core.models import Part
from filedock.storage.base import ObjectInfo
from tests.legacy.seed import API, error_of, upload, wait_status

KiB = 1024


def break_compose(monkeypatch: pytest.MonkeyPatch, app: FastAPI, times: int = 1) -> None:
    """The app's storage fails `times` compose calls, then works again."""
    storage = app.state.services.storage.backend
    real = storage.compose
    left = [times]

    async def compose(key: str, parts: Sequence[Part], dest: str) -> ObjectInfo:
        if left[0]:
            left[0] -= 1
            raise OSError("the storage is on fire")
        return await real(key, parts, dest)

    monkeypatch.setattr(storage, "compose", compose)


async def test_a_failed_merge_is_failure_then_success_after_retry(
    client: httpx.AsyncClient,
    app: FastAPI,
    monkeypatch: pytest.MonkeyPatch,
    payload: Callable[[int], bytes],
) -> None:
    break_compose(monkeypatch, app)
    data = payload(4 * 64 * KiB + 1)
    _, done = await upload(client, data, credential={"owner": "ana"})
    owner = {"owner": "ana"}
    await wait_status(client, done["id"], "FAILURE", params=owner)
    got = await client.get(f"{API}/get/{done['id']}", params=owner)
    assert got.status_code == 200  # the file id stays valid while it can be retried
    assert (await client.get(got.json()["data"]["download_url"])).status_code == 404
    form = {"file_id": done["id"], "credential": '{"owner": "ana"}'}
    retried = await client.post(f"{API}/upload/retry", data=form)
    assert retried.status_code == 200, retried.text
    assert retried.json()["data"]["id"] == done["id"]
    await wait_status(client, done["id"], "SUCCESS", params=owner)
    downloaded = await client.get(retried.json()["data"]["download_url"])
    assert downloaded.content == data
    again = await client.post(f"{API}/upload/retry/", data=form)
    assert "merged already" in error_of(again, 409)["message"]


async def test_retry_while_the_merge_runs_is_refused(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = app.state.services.storage.backend
    real, release = storage.compose, asyncio.Event()

    async def slow_compose(*args: Any) -> ObjectInfo:
        await release.wait()
        return await real(*args)

    monkeypatch.setattr(storage, "compose", slow_compose)
    data = b"s" * 1000
    _, done = await upload(client, data)
    await wait_status(client, done["id"], "STARTED")
    running = await client.post(f"{API}/upload/retry", data={"file_id": done["id"]})
    assert "still running" in error_of(running, 409)["message"]
    release.set()
    await wait_status(client, done["id"], "SUCCESS")
    assert (await client.get(done["download_url"])).content == data
