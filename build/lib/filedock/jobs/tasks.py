"""Job bodies and the one function that runs a job and records its outcome.

A job that raises is recorded as FAILURE with the reason: a failed job never looks like a
success, and running it again (retry, or after a crash) is always safe.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from filedock.core.assembly import Assembler
from filedock.core.models import JobState
from filedock.core.uploads import ASSEMBLE
from filedock.db.repo import Repository
from filedock.locks.base import LockService
from filedock.observability import JOB_SECONDS

log = logging.getLogger("filedock.jobs")


Bodies = dict[str, Callable[[str], Awaitable[None]]]
FINISHED = (JobState.SUCCESS, JobState.FAILURE)
JOB_LOCK_WAIT = 1.0  # seconds a duplicate run waits for the first before being retried


def job_bodies(assembler: Assembler) -> Bodies:
    return {ASSEMBLE: assembler.assemble}


async def run_job(repo: Repository, locks: LockService, bodies: Bodies, job_id: str) -> JobState:
    """Run a job and record its outcome, one run per subject at a time.

    The exclusive hold on `job:<subject>` (across processes with Redis) makes duplicate
    deliveries run one after the other: a broker redelivering after a worker died, a
    replica re-submitting unfinished jobs at start. The later run then finds SUCCESS and
    does nothing. While the hold is taken, UPLOAD_BUSY propagates so Celery retries later.
    A finished job never runs again (a redelivered failure must not turn into a success
    because its upload is no longer assembling); retrying is completing again: a new job.
    """
    job = await repo.get_job(job_id)
    if job is None or job.state in FINISHED:
        return job.state if job else JobState.FAILURE
    async with locks.exclusive(f"job:{job.subject_id}", JOB_LOCK_WAIT):
        job = await repo.get_job(job_id)
        if job is None or job.state in FINISHED:
            return job.state if job else JobState.FAILURE
        await repo.set_job_state(job.id, JobState.STARTED, attempt=True)
        started = time.perf_counter()
        state, error = JobState.SUCCESS, None
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
            state, error = JobState.FAILURE, str(exc) or type(exc).__name__
        JOB_SECONDS.labels(job.kind, state.value).observe(time.perf_counter() - started)
        await repo.set_job_state(job.id, state, error=error)
        return state
