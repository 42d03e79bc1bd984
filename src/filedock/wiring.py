"""build_services(settings): the only place that picks implementations.

Everything here is built inside the app's lifespan (or a CLI command), never at import.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from filedock.bus.memory import MemoryBus
from filedock.core.assembly import Assembler
from filedock.core.events import EventBus
from filedock.core.files import FileService
from filedock.core.policy import UploadPolicy
from filedock.core.uploads import UploadService
from filedock.db import migrate
from filedock.db.engine import create_engine
from filedock.db.repo import Repository
from filedock.jobs.base import JobRunner
from filedock.jobs.inprocess import InProcessRunner
from filedock.jobs.tasks import job_bodies, run_job
from filedock.locks.memory import MemoryLocks
from filedock.settings import Settings
from filedock.storage.base import Backend
from filedock.storage.registry import open_storage


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    repo: Repository
    storage: Backend
    bus: EventBus
    jobs: JobRunner
    uploads: UploadService
    files: FileService
    assembler: Assembler

    async def close(self) -> None:
        await self.jobs.stop()
        await self.storage.close()
        await self.engine.dispose()


def policy_for(settings: Settings, storage: Backend) -> UploadPolicy:
    limits = storage.limits
    return UploadPolicy(
        default_chunk_size=settings.default_chunk_size,
        max_chunk_size=min(settings.max_chunk_size, limits.max_part_size),
        min_chunk_size=limits.min_part_size,
        max_parts=limits.max_parts,
        max_file_size=settings.max_file_size,
        ttl=timedelta(seconds=settings.upload_ttl_seconds),
    )


async def build_services(settings: Settings, *, migrate_db: bool = True) -> Services:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if migrate_db:
        await asyncio.to_thread(migrate.upgrade, settings.database_url)
    engine = create_engine(settings.database_url)
    repo = Repository(engine)
    storage = open_storage(settings)
    bus = MemoryBus()
    bodies: dict[str, Callable[[str], Awaitable[None]]] = {}
    runner = InProcessRunner(repo, lambda job_id: run_job(repo, bodies, job_id))
    uploads = UploadService(
        repo, storage, MemoryLocks(), bus, policy_for(settings, storage), runner.submit
    )
    assembler = Assembler(uploads, repo)
    bodies.update(job_bodies(assembler))
    return Services(
        settings=settings,
        engine=engine,
        repo=repo,
        storage=storage,
        bus=bus,
        jobs=runner,
        uploads=uploads,
        files=FileService(repo, storage),
        assembler=assembler,
    )
