"""Job bodies and the one function that runs a job and records its outcome.

A job that raises is recorded as FAILURE with the reason: a failed job never looks like a
success, and running it again (retry, or after a crash) is always safe.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from filedock.core.assembly import Assembler
from filedock.core.models import JobState
from filedock.core.uploads import ASSEMBLE
from filedock.db.repo import Repository

log = logging.getLogger("filedock.jobs")


def job_bodies(assembler: Assembler) -> dict[str, Callable[[str], Awaitable[None]]]:
    return {ASSEMBLE: assembler.assemble}


async def run_job(
    repo: Repository, bodies: dict[str, Callable[[str], Awaitable[None]]], job_id: str
) -> JobState:
    job = await repo.get_job(job_id)
    if job is None or job.state == JobState.SUCCESS:
        return JobState.SUCCESS if job else JobState.FAILURE
    await repo.set_job_state(job.id, JobState.STARTED, attempt=True)
    try:
        await bodies[job.kind](job.subject_id)
    except Exception as exc:
        log.warning(
            "job %s (%s of %s) failed: %s",
            job.id,
            job.kind,
            job.subject_id,
            exc,
            exc_info=not hasattr(exc, "code"),
        )
        await repo.set_job_state(job.id, JobState.FAILURE, error=str(exc))
        return JobState.FAILURE
    await repo.set_job_state(job.id, JobState.SUCCESS)
    return JobState.SUCCESS
