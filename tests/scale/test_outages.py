"""A database, Redis or broker going away while filedock runs: requests fail with 503 and
the error table's code, /readyz names what is down, and everything heals by itself when
the service comes back. Each outage is a TCP proxy closed in front of the real server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from filedock.app import create_app
from filedock.settings import Settings
from tests.databases import SERVERS, fresh_database
from tests.helpers import create, send
from tests.scale.processes import WorkerProcess, distributed_env, settings_fields
from tests.scale.proxy import Proxy
from tests.scale.services import RABBITMQ_URL, REDIS_URL, namespace, require


@asynccontextmanager
async def proxied(url: str) -> AsyncIterator[Proxy]:
    parts = urlsplit(url)
    proxy = Proxy(parts.hostname or "127.0.0.1", parts.port or 0)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://filedock") as client:
            yield client


async def eventually(check: Callable[[], Any], seconds: float = 15) -> None:
    """Retry an async assertion until it holds (reconnecting takes a moment)."""
    for _ in range(int(seconds * 10)):
        try:
            await check()
            return
        except AssertionError:
            await asyncio.sleep(0.1)
    await check()


async def assert_down(client: httpx.AsyncClient, response: httpx.Response, name: str) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["code"] == f"{name}_unavailable", response.text
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert name in ready.json()["details"], ready.text


@pytest.fixture(params=sorted(SERVERS))
def server_database(request: pytest.FixtureRequest) -> Iterator[str]:
    with fresh_database(request.param) as url:
        yield url


async def test_the_database_goes_away_and_comes_back(
    server_database: str, settings: Settings
) -> None:
    async with proxied(server_database) as proxy:
        settings = settings.model_copy(update={"database_url": proxy.url_for(server_database)})
        async with serving(settings) as client:
            upload = await create(client, b"x" * 10)
            await proxy.stop()
            await assert_down(
                client, await client.get(f"/api/v1/uploads/{upload['id']}"), "database"
            )
            await assert_down(
                client, await client.post("/api/v1/uploads", json={"filename": "a"}), "database"
            )

            await proxy.start()

            async def healed() -> None:
                answer = await client.get(f"/api/v1/uploads/{upload['id']}")
                assert answer.status_code == 200, answer.text
                assert (await client.get("/readyz")).status_code == 200

            await eventually(healed)


async def test_redis_goes_away_and_comes_back(settings: Settings) -> None:
    async with proxied(require(REDIS_URL)) as proxy:
        settings = settings.model_copy(
            update={"redis_url": proxy.url_for(REDIS_URL), "redis_namespace": namespace()}
        )
        async with serving(settings) as client:
            data = b"y" * 1000
            upload = await create(client, data)
            await proxy.stop()
            chunk = f"/api/v1/uploads/{upload['id']}/chunks/0"
            await assert_down(client, await client.put(chunk, content=data), "redis")

            await proxy.start()

            # The first request after Redis is back succeeds: stale pooled connections
            # are retried on a fresh one, not turned into a 503.
            answer = await client.put(chunk, content=data)
            assert answer.status_code == 200, answer.text
            assert (await client.get("/readyz")).status_code == 200
            done = await client.post(f"/api/v1/uploads/{upload['id']}/complete")
            assert done.status_code == 201, done.text  # locks and events both work again


async def test_jobs_sent_while_the_broker_is_away_run_when_it_is_back(
    settings: Settings, tmp_path: Path
) -> None:
    """The job row is written first; the message follows when the broker returns."""
    async with proxied(require(RABBITMQ_URL)) as proxy:
        env = distributed_env(settings.database_url, proxy.url_for(RABBITMQ_URL), settings.data_dir)
        settings = Settings(_env_file=None, **settings_fields(env), complete_wait_seconds=1)  # type: ignore[call-arg]
        async with serving(settings) as client:
            data = b"z" * 5000
            upload = await create(client, data)
            await send(client, upload, data)
            await proxy.stop()
            ready = await client.get("/readyz")
            assert ready.status_code == 503 and "broker" in ready.json()["details"]
            done = await client.post(f"/api/v1/uploads/{upload['id']}/complete", timeout=60)
            assert done.status_code == 202, done.text  # accepted, not lost, not a 500

            await proxy.start()
            worker = WorkerProcess({**env, "FILEDOCK_BROKER_URL": RABBITMQ_URL}, tmp_path / "w.log")
            worker.start()
            try:

                async def assembled() -> None:
                    status = (await client.get(f"/api/v1/uploads/{upload['id']}")).json()
                    assert status["state"] == "completed", status

                await eventually(assembled, 60)
            finally:
                worker.stop()


async def test_the_first_request_after_a_quiet_redis_outage_succeeds(settings: Settings) -> None:
    """No request noticed the outage, so every pooled connection is dead when the next
    one comes: it must be retried on a fresh connection, not answered 503."""
    async with proxied(require(REDIS_URL)) as proxy:
        settings = settings.model_copy(
            update={"redis_url": proxy.url_for(REDIS_URL), "redis_namespace": namespace()}
        )
        async with serving(settings) as client:
            data = b"z" * 1000
            upload = await create(client, data)
            chunk = f"/api/v1/uploads/{upload['id']}/chunks/0"
            assert (await client.put(chunk, content=data)).status_code == 200
            await proxy.stop()
            await asyncio.sleep(0.5)
            await proxy.start()
            answer = await client.put(chunk, content=data)
            assert answer.status_code == 200, answer.text
            done = await client.post(f"/api/v1/uploads/{upload['id']}/complete")
            assert done.status_code == 201, done.text
