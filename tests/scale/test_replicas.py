"""The proof with several processes: two `filedock serve` replicas on different ports and
`filedock worker` processes, sharing PostgreSQL, Redis, RabbitMQ and one storage folder.

Chunks of one upload alternate between the replicas, completion goes to one, the file
downloads byte-exact from both; two completes sent at once to both replicas give exactly
one file; killing the worker in the middle of an assembly still ends in one correct file.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.databases import fresh_database
from tests.helpers import chunks_of
from tests.realserver import ServerProcess
from tests.scale.processes import WorkerProcess, distributed_env, wait_for_job
from tests.scale.services import RABBITMQ_URL

pytestmark = pytest.mark.server

MiB = 1024 * 1024


class Deployment:
    def __init__(self, env: dict[str, str], root: Path) -> None:
        self.env = env
        self.root = root
        self.data_dir = Path(env["FILEDOCK_DATA_DIR"])
        self.replicas = [ServerProcess(self.data_dir, **env) for _ in range(2)]
        self.workers: list[WorkerProcess] = []
        self.http = [httpx.Client(base_url=r.url, timeout=60) for r in self.replicas]

    def start_worker(self) -> WorkerProcess:
        worker = WorkerProcess(self.env, self.root / f"worker-{len(self.workers)}.log")
        worker.start()
        self.workers.append(worker)
        return worker

    def stop(self) -> None:
        for client in self.http:
            client.close()
        for process in [*self.workers, *self.replicas]:
            process.stop()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("replicas")
    with fresh_database("postgresql") as url:
        env = distributed_env(url, RABBITMQ_URL, root / "data")
        env["FILEDOCK_MAX_CHUNK_SIZE"] = str(16 * MiB)
        running = Deployment(env, root)
        try:
            with ThreadPoolExecutor(2) as pool:  # both start (and migrate) at once
                for started in [pool.submit(r.start) for r in running.replicas]:
                    started.result()
            running.start_worker()
            yield running
        finally:
            running.stop()


def upload_alternating(deployment: Deployment, data: bytes, name: str, **fields: Any) -> str:
    """Create on one replica, then send chunk i to replica i % 2; returns the upload id."""
    first, second = deployment.http
    body = {"filename": name, "size": len(data), **fields}
    created = first.post("/api/v1/uploads", json=body)
    assert created.status_code == 201, created.text
    upload = created.json()
    for index, piece in enumerate(chunks_of(data, upload["chunk_size"])):
        answer = deployment.http[index % 2].put(
            f"/api/v1/uploads/{upload['id']}/chunks/{index}", content=piece
        )
        assert answer.status_code == 200, answer.text
    status = second.get(f"/api/v1/uploads/{upload['id']}").json()
    assert status["missing_chunks"] == [], status
    return str(upload["id"])


def settled(client: httpx.Client, upload_id: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        upload = client.get(f"/api/v1/uploads/{upload_id}").json()
        if upload["state"] != "assembling":
            return dict(upload)
        time.sleep(0.1)
    pytest.fail(f"upload {upload_id} still assembling after {timeout}s")


def files_named(client: httpx.Client, name: str) -> list[dict[str, Any]]:
    return list(client.get("/api/v1/files", params={"prefix": name}).json()["items"])


def assert_downloads_from_both(deployment: Deployment, file_id: str, data: bytes) -> None:
    for client in deployment.http:
        content = client.get(f"/api/v1/files/{file_id}/content")
        assert content.status_code == 200, content.text
        assert hashlib.sha256(content.content).digest() == hashlib.sha256(data).digest()


def test_both_replicas_are_ready_with_every_dependency(deployment: Deployment) -> None:
    for client in deployment.http:
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert set(ready.json()["checked"]) == {"database", "storage", "redis", "broker"}


def test_chunks_alternate_between_replicas(deployment: Deployment) -> None:
    data = os.urandom(5 * MiB + 123)
    name = f"alternating-{uuid.uuid4().hex}.bin"
    upload_id = upload_alternating(deployment, data, name, chunk_size=MiB)
    done = deployment.http[0].post(f"/api/v1/uploads/{upload_id}/complete")
    assert done.status_code == 201, done.text  # assembled by the worker, heard over Redis
    assert done.json()["sha256"] == hashlib.sha256(data).hexdigest()
    assert_downloads_from_both(deployment, done.json()["id"], data)


def test_two_completes_at_once_to_both_replicas_make_one_file(deployment: Deployment) -> None:
    data = os.urandom(3 * MiB)
    name = f"twice-{uuid.uuid4().hex}.bin"
    upload_id = upload_alternating(deployment, data, name, chunk_size=MiB)
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(
                lambda client: client.post(f"/api/v1/uploads/{upload_id}/complete"),
                deployment.http * 2,
            )
        )
    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    for client in deployment.http:
        assert [f["id"] for f in files_named(client, name)] == [answers[0].json()["id"]]
    assert_downloads_from_both(deployment, answers[0].json()["id"], data)


def test_killing_the_worker_mid_assembly_still_gives_one_correct_file(
    deployment: Deployment,
) -> None:
    data = os.urandom(256 * MiB)
    name = f"killed-{uuid.uuid4().hex}.bin"
    md5 = hashlib.md5(data).hexdigest()  # a second hash: a longer assembly to kill
    upload_id = upload_alternating(deployment, data, name, chunk_size=16 * MiB, md5=md5)
    with ThreadPoolExecutor(1) as pool:
        completing = pool.submit(deployment.http[0].post, f"/api/v1/uploads/{upload_id}/complete")
        url = deployment.env["FILEDOCK_DATABASE_URL"]
        asyncio.run(wait_for_job(url, upload_id, "started", 60))
        deployment.workers[-1].kill()
        deployment.start_worker()
        assert completing.result().status_code in (201, 202)
    finished = settled(deployment.http[1], upload_id)
    assert finished["state"] == "completed", finished
    assert asyncio.run(wait_for_job(url, upload_id, "success", 5)) >= 2  # it ran again
    for client in deployment.http:
        assert [f["id"] for f in files_named(client, name)] == [finished["file_id"]]
    assert_downloads_from_both(deployment, finished["file_id"], data)
