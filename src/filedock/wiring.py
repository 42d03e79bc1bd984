"""build_services(settings): the only place that picks implementations.

Everything here is built inside the app's lifespan (or a CLI command, or a Celery worker
process), never at import. Each distributed implementation is chosen by one setting and
falls back to the embedded one when it is unset: FILEDOCK_DATABASE_URL (SQLite),
FILEDOCK_BROKER_URL (in-process jobs), FILEDOCK_REDIS_URL (in-memory locks and events).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from filedock.bus.memory import MemoryBus
from filedock.bus.redis import RedisBus
from filedock.core.access import Access, load_secret
from filedock.core.assembly import Assembler
from filedock.core.authn import Authenticator, is_loopback
from filedock.core.events import EventBus
from filedock.core.files import FileService
from filedock.core.keys import KeyService
from filedock.core.models import JobState
from filedock.core.policy import UploadPolicy
from filedock.core.quotas import QuotaService
from filedock.core.shares import ShareService
from filedock.core.targets import UploadTargets
from filedock.core.tokens import JwtConfig, JwtVerifier
from filedock.core.uploads import UploadService
from filedock.db import migrate
from filedock.db.engine import create_engine
from filedock.db.keys import KeyStore
from filedock.db.repo import Repository
from filedock.db.shares import ShareStore
from filedock.db.tenants import TenantStore
from filedock.jobs.base import JobRunner
from filedock.jobs.celery import CeleryRunner, celery_app
from filedock.jobs.inprocess import InProcessRunner
from filedock.jobs.tasks import Bodies, job_bodies, run_job
from filedock.locks.base import LockService
from filedock.locks.memory import MemoryLocks
from filedock.locks.redis import RedisLocks
from filedock.observability import MeteredBus
from filedock.settings import Settings
from filedock.storage.base import Backend, Storage
from filedock.storage.registry import open_storage

log = logging.getLogger("filedock")
Check = Callable[[], Awaitable[object]]


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    repo: Repository
    storage: Storage  # the backend (storage.backend) and its optional capabilities
    bus: EventBus
    locks: LockService
    jobs: JobRunner
    uploads: UploadService
    targets: UploadTargets
    files: FileService
    shares: ShareService
    access: Access
    keys: KeyService
    auth: Authenticator
    bodies: Bodies
    checks: dict[str, Check]  # what /readyz asks: each raises when its dependency is down
    closers: list[Check] = field(default_factory=list)

    async def run_job(self, job_id: str) -> JobState:
        return await run_job(self.repo, self.locks, self.bodies, job_id)

    async def close(self) -> None:
        await self.jobs.stop()
        for close in self.closers:
            await close()
        await self.storage.backend.close()
        await self.engine.dispose()


def policy_for(settings: Settings, storage: Backend) -> UploadPolicy:
    limits = storage.limits
    return UploadPolicy(
        default_chunk_size=settings.default_chunk_size,
        # never below the backend's minimum part (S3: 5 MiB), whatever the setting says
        max_chunk_size=max(
            min(settings.max_chunk_size, limits.max_part_size), limits.min_part_size
        ),
        min_chunk_size=limits.min_part_size,
        max_parts=limits.max_parts,
        max_file_size=settings.max_file_size,
        ttl=timedelta(seconds=settings.upload_ttl_seconds),
    )


async def build_services(settings: Settings, *, migrate_db: bool = True) -> Services:
    if settings.data_dir_uses():  # nothing kept there: leave no empty folder behind
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    configured = settings.secret_key.get_secret_value() if settings.secret_key else None
    secret = load_secret(configured, settings.data_dir)
    if migrate_db:
        await asyncio.to_thread(migrate.upgrade, settings.database_url)
    engine = create_engine(settings.database_url)
    repo = Repository(engine)
    storage = open_storage(settings)
    await storage.backend.check()  # fail at start-up, naming what is wrong with the storage
    locks, bus, shared_checks, closers = _locks_and_events(settings)
    bodies: Bodies = {}
    runner, runner_checks = _job_runner(
        settings, repo, lambda job_id: run_job(repo, locks, bodies, job_id)
    )
    checks: dict[str, Check] = {
        "database": lambda: _ping(engine),
        "storage": storage.backend.check,
        **shared_checks,
        **runner_checks,
    }
    uploads = UploadService(
        repo,
        storage.backend,
        locks,
        bus,
        policy_for(settings, storage.backend),
        runner.submit,
        QuotaService(TenantStore(engine)),
        single_process=not (settings.redis_url or settings.broker_url),
        copier=storage.copier,
    )
    assembler = Assembler(uploads, repo)
    bodies.update(job_bodies(assembler))
    keys = KeyService(KeyStore(engine))
    files = FileService(repo, storage.backend)
    return Services(
        settings=settings,
        engine=engine,
        repo=repo,
        storage=storage,
        bus=bus,
        locks=locks,
        jobs=runner,
        uploads=uploads,
        targets=UploadTargets(uploads, repo),
        files=files,
        shares=ShareService(ShareStore(engine), files),
        access=Access(
            secret,
            timedelta(seconds=settings.signed_url_ttl_seconds),
            # the download strategy, decided here once: redirect to the store when asked to
            # and the store can sign; otherwise filedock streams the bytes itself
            redirect=storage.signer if settings.download_redirect else None,
            redirect_ttl=settings.redirect_ttl_seconds,
        ),
        keys=keys,
        auth=authenticator(settings, keys),
        bodies=bodies,
        checks=checks,
        closers=closers,
    )


def jwt_config(settings: Settings) -> JwtConfig:
    public_key = settings.jwt_public_key_file
    return JwtConfig(
        secret=settings.jwt_secret.get_secret_value() if settings.jwt_secret else None,
        public_key=public_key.read_text() if public_key else None,
        jwks_url=settings.jwt_jwks_url or None,
        issuer=settings.jwt_issuer or None,
        audience=settings.jwt_audience or None,
        tenant_claim=settings.jwt_tenant_claim,
    )


def authenticator(settings: Settings, keys: KeyService) -> Authenticator:
    config = jwt_config(settings)
    verifier = JwtVerifier(config) if config.enabled else None
    return Authenticator(keys, verifier, settings.auth, loopback=is_loopback(settings.host))


def _locks_and_events(
    settings: Settings,
) -> tuple[LockService, EventBus, dict[str, Check], list[Check]]:
    """In memory for one process; in Redis, shared by every process, when configured.
    Also what /readyz checks and what closing must close."""
    if not settings.redis_url:
        return MemoryLocks(), MeteredBus(MemoryBus()), {}, []
    # A pooled connection that died while Redis was away fails on its next use: retry
    # such failures on a fresh connection, so the first request after Redis is back does
    # not get a 503 (the lock scripts are idempotent per token, so a re-run is harmless).
    redis = Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=5,
        socket_timeout=10,
        health_check_interval=15,
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=1), 3, (RedisConnectionError,)),
    )
    locks = RedisLocks(redis, settings.lock_ttl_seconds, settings.redis_namespace)
    bus = RedisBus(redis, settings.redis_namespace)
    return locks, MeteredBus(bus), {"redis": redis.ping}, [bus.close, locks.close, redis.aclose]


def _job_runner(
    settings: Settings, repo: Repository, execute: Callable[[str], Coroutine[Any, Any, JobState]]
) -> tuple[JobRunner, dict[str, Check]]:
    """Jobs in this process, or sent to Celery workers when a broker is configured."""
    if not settings.broker_url:
        return InProcessRunner(repo, execute), {}
    if not settings.redis_url:
        log.warning(
            "FILEDOCK_BROKER_URL without FILEDOCK_REDIS_URL: workers cannot tell servers "
            "that a job finished, so completions answer 202 and clients poll"
        )
    runner = CeleryRunner(celery_app(settings), repo)
    return runner, {"broker": runner.check}


async def _ping(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
