"""The caller's tenant: what it uses and the limits it has (set with `filedock tenants`)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from filedock.api.auth import PrincipalDep
from filedock.api.deps import ServicesDep

router = APIRouter(prefix="/api/v1", tags=["usage"])


class LimitsOut(BaseModel):
    max_bytes: int | None = Field(description="Counted bytes allowed; null: no limit.")
    max_files: int | None = Field(description="Files plus unfinished uploads allowed.")
    max_file_size: int | None = Field(description="Bytes one file may have (besides the server's).")
    allowed_types: list[str] | None = Field(
        description="Content-type patterns accepted (image/*); null: any.", examples=[["image/*"]]
    )


class UsageOut(BaseModel):
    tenant: str
    bytes_used: int = Field(description="Counted bytes: files plus staged_bytes.")
    files: int = Field(description="Finished files.")
    file_bytes: int
    uploads: int = Field(description="Unfinished uploads (receiving, assembling, failed).")
    staged_bytes: int = Field(
        description="What unfinished uploads hold or reserved: a declared size counts whole "
        "from creation; an unknown length counts what arrived."
    )
    limits: LimitsOut


@router.get("/usage", response_model=UsageOut, summary="The caller's tenant: usage and limits")
async def tenant_usage(services: ServicesDep, who: PrincipalDep) -> UsageOut:
    usage, limits = await services.uploads.quotas.report(who.tenant)
    return UsageOut.model_validate(usage.report(who.tenant, limits))
