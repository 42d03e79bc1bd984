"""run_job, whichever runner delivers it: duplicate deliveries of one job run one after
the other and the later does nothing; a finished job never runs again."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI

from filedock.core.models import Job, JobState
from filedock.wiring import Services

pytestmark = pytest.mark.databases


def services_of(app: FastAPI) -> Services:
    services: Services = app.state.services
    return services


async def new_job(services: Services, state: JobState = JobState.PENDING) -> Job:
    now = datetime.now(UTC)
    job = Job(uuid.uuid4().hex, None, "probe", uuid.uuid4().hex, state, 0, None, now, now)
    await services.repo.insert_job(job)
    return job


async def test_duplicate_deliveries_run_the_body_once(app: FastAPI) -> None:
    services = services_of(app)
    runs: list[str] = []

    async def probe(subject: str) -> None:
        runs.append(subject)
        await asyncio.sleep(0.3)

    services.bodies["probe"] = probe
    job = await new_job(services)
    outcomes = await asyncio.gather(
        services.run_job(job.id), services.run_job(job.id), return_exceptions=True
    )
    assert runs == [job.subject_id]
    assert JobState.SUCCESS in outcomes  # the other waited, then found it done, or was busy
    stored = await services.repo.get_job(job.id)
    assert stored is not None and stored.state == JobState.SUCCESS and stored.attempts == 1


@pytest.mark.parametrize("state", [JobState.SUCCESS, JobState.FAILURE])
async def test_a_finished_job_never_runs_again(app: FastAPI, state: JobState) -> None:
    services = services_of(app)
    runs: list[str] = []

    async def probe(subject: str) -> None:
        runs.append(subject)

    services.bodies["probe"] = probe
    job = await new_job(services, state)
    assert await services.run_job(job.id) == state
    assert runs == []


async def test_a_failing_body_is_recorded_as_failure(app: FastAPI) -> None:
    services = services_of(app)

    async def probe(subject: str) -> None:
        raise RuntimeError("the storage said no")

    services.bodies["probe"] = probe
    job = await new_job(services)
    assert await services.run_job(job.id) == JobState.FAILURE
    stored = await services.repo.get_job(job.id)
    assert stored is not None and stored.error == "the storage said no"
