"""Tenant admins manage their tenant's API keys over HTTP (the operator uses the CLI)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from filedock.api.auth import AdminDep
from filedock.api.deps import ServicesDep
from filedock.api.rendering import error_responses
from filedock.core.keys import ApiKey
from filedock.errors import Code

router = APIRouter(prefix="/api/v1/keys", tags=["keys"])
_ADMIN = error_responses(Code.UNAUTHENTICATED, Code.INSUFFICIENT_SCOPE)


class CreateKey(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    user: str = Field(min_length=1, max_length=128)
    scopes: str = Field("read", max_length=64, examples=["read,write"])
    name: str | None = Field(None, max_length=128)
    expires_in: int | None = Field(None, gt=0, le=10 * 365 * 86400, description="Seconds")


class KeyOut(BaseModel):
    id: str
    tenant: str
    user: str
    scopes: str
    name: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> KeyOut:
        return cls(**vars(key))


class NewKey(KeyOut):
    key: str = Field(description="The secret: shown this once, only its hash is kept.")


@router.post("", status_code=201, response_model=NewKey, responses=_ADMIN, summary="Create a key")
async def create_key(
    services: ServicesDep, admin: AdminDep, spec: Annotated[CreateKey, Body()]
) -> NewKey:
    key, secret = await services.keys.create(
        tenant=admin.tenant,
        user=spec.user,
        scopes=spec.scopes,
        name=spec.name,
        expires_in=timedelta(seconds=spec.expires_in) if spec.expires_in else None,
    )
    return NewKey(**vars(key), key=secret)


@router.get("", response_model=list[KeyOut], responses=_ADMIN, summary="The tenant's keys")
async def list_keys(services: ServicesDep, admin: AdminDep) -> list[KeyOut]:
    return [KeyOut.of(k) for k in await services.keys.listed(admin.tenant)]


@router.delete(
    "/{key_id}",
    status_code=204,
    responses=error_responses(Code.KEY_NOT_FOUND),
    summary="Revoke a key",
)
async def revoke_key(
    services: ServicesDep, admin: AdminDep, key_id: Annotated[str, Path(max_length=64)]
) -> Response:
    await services.keys.revoke(key_id, admin.tenant)
    return Response(status_code=204)
