"""Operator endpoints: liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from filedock.api.deps import ServicesDep

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Database and storage are reachable (503 naming what is down)")
async def readyz(services: ServicesDep) -> JSONResponse:
    down: dict[str, str] = {}
    try:
        async with services.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        down["database"] = str(exc)
    try:
        await services.storage.check()
    except Exception as exc:
        down["storage"] = str(exc)
    if down:
        return JSONResponse(
            {"code": "not_ready", "message": f"Down: {', '.join(down)}.", "details": down}, 503
        )
    return JSONResponse({"status": "ready"})
