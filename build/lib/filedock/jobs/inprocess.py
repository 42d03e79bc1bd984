"""The embedded job runner: jobs run as asyncio tasks in the server process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from filedock.core.models import Job, JobState
from filedock.db.repo import Repository

log = logging.getLogger("filedock.jobs")


class InProcessRunner:
    def __init__(
        self, repo: Repository, execute: Callable[[str], Coroutine[Any, Any, JobState]]
    ) -> None:
        self.repo = repo
        self.execute = execute
        self._tasks: set[asyncio.Task[JobState]] = set()

    async def submit(self, job: Job) -> None:
        task = asyncio.create_task(self.execute(job.id), name=f"job-{job.id}")
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[JobState]) -> None:
        """A job that could not even record its outcome (database down, held by another
        replica) stays pending and runs again at the next start; say so."""
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("%s left unfinished: %s", task.get_name(), task.exception())

    async def start(self) -> None:
        for job in await self.repo.unfinished_jobs():
            log.info("resuming job %s (%s of %s)", job.id, job.kind, job.subject_id)
            await self.submit(job)

    async def stop(self) -> None:
        """Let running jobs finish: they are short (no bytes are copied) and idempotent."""
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=30)
