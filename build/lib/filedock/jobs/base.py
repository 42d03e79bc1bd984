"""What runs a job: the in-process runner or Celery. Job state is filedock's, in SQL."""

from __future__ import annotations

from typing import Protocol

from filedock.core.models import Job


class JobRunner(Protocol):
    async def submit(self, job: Job) -> None:
        """Arrange for the job to run; its state is recorded by `tasks.run_job`."""
        ...

    async def start(self) -> None:
        """Begin executing; re-submits jobs a crash left pending or started."""
        ...

    async def stop(self) -> None: ...
