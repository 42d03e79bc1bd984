"""Jobs on `filedock worker` processes, with RabbitMQ and with Redis as the broker, on
MariaDB: assembly runs on the worker and the server hears it finish (Redis events); a
worker killed in the middle of an assembly leaves the job to another, and one correct
file results."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from filedock.app import create_app
from filedock.settings import Settings
from tests.databases import fresh_database
from tests.helpers import create, send
from tests.scale.processes import WorkerProcess, distributed_env, settings_fields, wait_for_job
from tests.scale.services import BROKERS

MiB = 1024 * 1024


@pytest.fixture(params=sorted(BROKERS))
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    with fresh_database("mariadb") as url:
        yield distributed_env(url, BROKERS[request.param], tmp_path / "data")


@pytest.fixture
async def api(deployment: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        **settings_fields(deployment),
        max_chunk_size=16 * MiB,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield client


@pytest.fixture
def workers(deployment: dict[str, str], tmp_path: Path) -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.stop()


def start_worker(
    workers: list[WorkerProcess], env: dict[str, str], tmp_path: Path
) -> WorkerProcess:
    worker = WorkerProcess(env, tmp_path / f"worker-{len(workers)}.log")
    worker.start()
    workers.append(worker)
    return worker


async def settled(api: httpx.AsyncClient, upload_id: str, timeout: float = 90) -> dict[str, Any]:
    for _ in range(int(timeout * 10)):
        upload = (await api.get(f"/api/v1/uploads/{upload_id}")).json()
        if upload["state"] != "assembling":
            return dict(upload)
        await asyncio.sleep(0.1)
    pytest.fail(f"upload {upload_id} still assembling after {timeout}s")


async def test_assembly_runs_on_a_worker(
    api: httpx.AsyncClient, deployment: dict[str, str], workers: list[WorkerProcess], tmp_path: Path
) -> None:
    start_worker(workers, deployment, tmp_path)
    data = os.urandom(300_000)
    upload = await create(api, data, chunk_size=64 * 1024)
    await send(api, upload, data, shuffle=True)
    done = await api.post(f"/api/v1/uploads/{upload['id']}/complete")
    assert done.status_code == 201, done.text  # the worker's event reached this server
    assert done.json()["sha256"] == hashlib.sha256(data).hexdigest()
    url = deployment["FILEDOCK_DATABASE_URL"]
    assert await wait_for_job(url, upload["id"], "success", 5) == 1


async def test_a_worker_killed_mid_assembly(
    api: httpx.AsyncClient, deployment: dict[str, str], workers: list[WorkerProcess], tmp_path: Path
) -> None:
    url = deployment["FILEDOCK_DATABASE_URL"]
    first = start_worker(workers, deployment, tmp_path)
    data = os.urandom(256 * MiB)
    upload = await create(api, data, chunk_size=16 * MiB, md5=hashlib.md5(data).hexdigest())
    await send(api, upload, data)
    completing = asyncio.create_task(api.post(f"/api/v1/uploads/{upload['id']}/complete"))
    await wait_for_job(url, upload["id"], "started", 60)
    first.kill()
    assert (await api.get(f"/api/v1/uploads/{upload['id']}")).json()["state"] == "assembling"

    start_worker(workers, deployment, tmp_path)
    answer = await completing
    assert answer.status_code in (201, 202), answer.text
    finished = await settled(api, upload["id"])
    assert finished["state"] == "completed", finished
    assert await wait_for_job(url, upload["id"], "success", 5) >= 2  # it ran again
    listed = (await api.get("/api/v1/files")).json()
    assert [f["id"] for f in listed["items"]] == [finished["file_id"]]
    content = await api.get(f"/api/v1/files/{finished['file_id']}/content")
    assert hashlib.sha256(content.content).digest() == hashlib.sha256(data).digest()
