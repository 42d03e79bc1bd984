"""Operator endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from filedock import observability
from filedock.api.deps import ServicesDep
from filedock.errors import FiledockError

router = APIRouter(tags=["operations"])

CHECK_TIMEOUT = 5.0  # seconds; a dependency slower than this to answer counts as down


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Every dependency is reachable (503 naming what is down)",
    description="Checks the database, the storage and, when configured, Redis and the "
    "job broker, all at once. 200 `{status: ready, checked: [...]}`, or 503 "
    "`{code: not_ready, message, details: {dependency: reason}}`.",
    responses={503: {"description": "At least one dependency is down"}},
)
async def readyz(services: ServicesDep) -> JSONResponse:
    names = list(services.checks)
    outcomes = await asyncio.gather(
        *(asyncio.wait_for(services.checks[name](), CHECK_TIMEOUT) for name in names),
        return_exceptions=True,
    )
    down = {
        name: _reason(outcome)
        for name, outcome in zip(names, outcomes, strict=True)
        if isinstance(outcome, BaseException)
    }
    if down:
        return JSONResponse(
            {"code": "not_ready", "message": f"Down: {', '.join(down)}.", "details": down}, 503
        )
    return JSONResponse({"status": "ready", "checked": names})


def _reason(exc: BaseException) -> str:
    if isinstance(exc, FiledockError):
        return exc.message
    if isinstance(exc, TimeoutError):
        return f"no answer within {CHECK_TIMEOUT:g}s"
    return f"{type(exc).__name__}: {exc}"


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description="Uploads in progress and jobs by state (read from the database, the same "
    "on every replica), bytes received, chunk request latency, job durations, requests "
    "and errors by code (counted by this process).",
    response_class=Response,
)
async def metrics(services: ServicesDep) -> Response:
    # The database down: serve this process's own figures; /readyz says what is wrong.
    with contextlib.suppress(FiledockError):
        observability.set_counts(*await services.repo.state_counts())
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
