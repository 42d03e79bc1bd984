"""Celery: jobs run on `filedock worker` processes; the broker only carries job ids.

Job state stays in filedock's jobs table (tasks.run_job records it); Celery only
delivers, with:
- late acknowledgement: a message is acknowledged after its job ran, so a worker killed
  mid-job leaves it to be delivered again (RabbitMQ as soon as the connection drops; a
  Redis broker after `broker_visibility_timeout_seconds`);
- retries with exponential backoff for whatever escapes run_job (database or Redis down,
  the same job still held by an earlier run);
- idempotent jobs: run_job skips a job that succeeded and runs one per subject at a time,
  and assembly is safe to run again after any crash.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from celery import Celery
from celery.signals import worker_shutdown

from filedock.core.models import Job, JobState
from filedock.db.repo import Repository
from filedock.settings import Settings

if TYPE_CHECKING:
    from filedock.wiring import Services

log = logging.getLogger("filedock.jobs")

TASK = "filedock.run_job"
RESEND_PAUSE = 2.0  # seconds between attempts to send jobs the broker refused
SEND_RETRY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1}


def celery_app(settings: Settings) -> Celery:
    app = Celery("filedock", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_default_queue=settings.broker_queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        broker_connection_timeout=4,
        broker_connection_retry_on_startup=True,
        broker_transport_options=_transport_options(settings),
    )
    return app


def _transport_options(settings: Settings) -> dict[str, object]:
    """RabbitMQ confirms each publish (a sent job is a stored job). A Redis broker hands
    an unacknowledged job to another worker after the visibility timeout, looking for
    such jobs at least that often, and gives up on a silent dead connection."""
    if not settings.broker_url.startswith(("redis:", "rediss:")):
        return {"confirm_publish": True}
    timeout = settings.broker_visibility_timeout_seconds
    return {
        "visibility_timeout": timeout,
        "unacked_restore_interval": min(10, timeout),
        "unacked_restore_throttle": 1,
        "socket_timeout": 30,
        "socket_connect_timeout": 5,
    }


class CeleryRunner:
    """The API side: hands job ids to the broker, and re-sends what it could not send.

    A job row is written before its message is sent, so a broker outage (or a crash in
    between) never loses a job: it is re-sent when the broker is back, and every replica
    re-sends unfinished jobs when it starts (duplicates are harmless, see run_job).
    """

    def __init__(self, app: Celery, repo: Repository) -> None:
        self.app = app
        self.repo = repo
        self._unsent: set[str] = set()
        self._resender: asyncio.Task[None] | None = None

    def _send(self, job_id: str) -> None:
        self.app.send_task(TASK, args=[job_id], retry_policy=SEND_RETRY)

    async def submit(self, job: Job) -> None:
        try:
            await asyncio.to_thread(self._send, job.id)
        except Exception as exc:
            log.warning("broker unreachable, job %s is sent when it is back: %s", job.id, exc)
            self._unsent.add(job.id)

    async def start(self) -> None:
        for job in await self.repo.unfinished_jobs():
            await self.submit(job)
        self._resender = asyncio.create_task(self._resend(), name="celery-resend")

    async def _resend(self) -> None:
        while True:
            await asyncio.sleep(RESEND_PAUSE)
            for job_id in sorted(self._unsent):
                try:
                    await asyncio.to_thread(self._send, job_id)
                except Exception:
                    break
                self._unsent.discard(job_id)
                log.info("job %s sent to the broker", job_id)

    async def stop(self) -> None:
        if self._resender is not None:
            self._resender.cancel()
        await asyncio.to_thread(self.app.close)

    async def check(self) -> None:
        """Raise when the broker cannot be reached (for /readyz)."""

        def connect() -> None:
            with self.app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1)

        await asyncio.to_thread(connect)


class WorkerRuntime:
    """The worker's side: one event loop thread per worker process, holding Services
    built from Settings exactly as a server builds its own; Celery's threads hand their
    job coroutines to it, so connection pools are shared by the jobs of one process."""

    def __init__(self, build: Callable[[], Awaitable[Services]]) -> None:
        self.build = build
        self._guard = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._services: asyncio.Task[Services] | None = None

    def run(self, job_id: str) -> JobState:
        return asyncio.run_coroutine_threadsafe(self._run(job_id), self._started()).result()

    async def _run(self, job_id: str) -> JobState:
        if self._services is None:
            self._services = asyncio.ensure_future(self.build())
        services = await self._services
        return await services.run_job(job_id)

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._guard:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=self._loop.run_forever, name="jobs", daemon=True).start()
            return self._loop

    def close(self) -> None:
        if self._loop is None:
            return
        if self._services is not None:
            asyncio.run_coroutine_threadsafe(_closed(self._services), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)


async def _closed(services: asyncio.Task[Services]) -> None:
    if not services.cancelled() and services.exception() is None:
        await services.result().close()


def worker_app(settings: Settings, build: Callable[[], Awaitable[Services]]) -> Celery:
    """The Celery app of `filedock worker`, with the one task that runs a filedock job."""
    app = celery_app(settings)
    runtime = WorkerRuntime(build)

    @app.task(  # type: ignore[untyped-decorator]
        name=TASK,
        autoretry_for=(Exception,),
        retry_backoff=True,
        retry_backoff_max=300,
        retry_jitter=True,
        max_retries=None,
    )
    def run_job(job_id: str) -> str:
        return runtime.run(job_id).value

    worker_shutdown.connect(lambda **_: runtime.close(), weak=False)
    return app


def run_worker(
    settings: Settings, build: Callable[[], Awaitable[Services]], concurrency: int
) -> None:
    """Blocks: consume filedock's queue with `concurrency` threads in this process."""
    worker_app(settings, build).worker_main(
        [
            "worker",
            "--pool=threads",
            f"--concurrency={concurrency}",
            f"--queues={settings.broker_queue}",
            f"--hostname=filedock-{os.getpid()}@%h",
            f"--loglevel={settings.log_level.upper()}",
            "--without-gossip",
            "--without-mingle",
        ]
    )
