"""Periodic expiry runs exactly once per period across replicas: each replica wakes at
every period's start and only the one that claims the period in Redis runs it."""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack

import pytest

from filedock.app import create_app
from filedock.settings import Settings
from tests.scale.services import REDIS_URL, namespace, require


async def test_expiry_runs_once_per_period_across_replicas(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = settings.model_copy(
        update={
            "redis_url": require(REDIS_URL),
            "redis_namespace": namespace(),
            "cleanup_interval_seconds": 1,
        }
    )
    runs: list[tuple[int, int]] = []  # (replica, period)
    async with AsyncExitStack() as stack:
        for replica in range(3):
            app = create_app(shared)
            await stack.enter_async_context(app.router.lifespan_context(app))

            async def expire(replica: int = replica) -> int:
                runs.append((replica, int(time.time())))
                return 0

            monkeypatch.setattr(app.state.services.uploads, "expire_idle", expire)
        await asyncio.sleep(3.5)
    periods = [period for _, period in runs]
    assert len(periods) >= 3
    assert len(set(periods)) == len(periods), runs  # never twice in one period
