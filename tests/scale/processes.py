"""The production shape in processes: settings shared by servers and workers, and a
`filedock worker` subprocess that can be killed with SIGKILL like a crashed machine."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from filedock.db.engine import create_engine
from filedock.db.tables import jobs
from tests.scale.services import REDIS_URL, namespace, require


def distributed_env(database_url: str, broker_url: str, data_dir: Path) -> dict[str, str]:
    """FILEDOCK_* for one test's deployment: its own database, queue, Redis namespace."""
    ns = namespace()
    return {
        "FILEDOCK_DATA_DIR": str(data_dir),
        "FILEDOCK_DATABASE_URL": database_url,
        "FILEDOCK_BROKER_URL": require(broker_url),
        "FILEDOCK_BROKER_QUEUE": ns,
        "FILEDOCK_BROKER_VISIBILITY_TIMEOUT_SECONDS": "3",
        "FILEDOCK_REDIS_URL": require(REDIS_URL),
        "FILEDOCK_REDIS_NAMESPACE": ns,
        "FILEDOCK_LOCK_TTL_SECONDS": "2",
        "FILEDOCK_FSYNC": "false",
    }


def settings_fields(env: dict[str, str]) -> dict[str, Any]:
    """The same deployment as keyword arguments of Settings, for an in-process server."""
    return {key.removeprefix("FILEDOCK_").lower(): value for key, value in env.items()}


class WorkerProcess:
    """`filedock worker` in its own process group, so a kill takes all of it at once."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = {**os.environ, "FILEDOCK_LOG_LEVEL": "INFO", **env}
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        return [sys.executable, "-m", "filedock", "worker", "--concurrency", "2"]

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                env=self.env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL: nothing acknowledges, releases or cleans up, as in a crash."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


async def wait_for_job(database_url: str, subject_id: str, state: str, timeout: float) -> int:
    """Poll the jobs table until the subject's job is in `state`; its attempts so far."""
    engine = create_engine(database_url)
    query = select(jobs.c.state, jobs.c.attempts).where(jobs.c.subject_id == subject_id)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            async with engine.connect() as connection:
                row = (await connection.execute(query)).first()
            if row is not None and row.state == state:
                return int(row.attempts)
            await asyncio.sleep(0.01)
    finally:
        await engine.dispose()
    raise AssertionError(f"the job of {subject_id} never reached {state}")
