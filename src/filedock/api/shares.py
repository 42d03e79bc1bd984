"""Share links over HTTP: create, list and revoke them (with a key), download (without).

`GET`/`HEAD /s/{token}` is deliberately open: the token is the credential. It serves the
bytes exactly as the native download does (Range, ETag, the file's name), and each GET
that starts a body counts one download; HEAD and 304 answers do not.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Self

from fastapi import APIRouter, Body, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from filedock.api.auth import CredentialDep, PrincipalDep
from filedock.api.deps import ServicesDep
from filedock.api.files import FileId, download_responses, serve_file
from filedock.api.ranges import DownloadHeadersDep
from filedock.api.rendering import error_responses
from filedock.api.uploads import base_url
from filedock.core.shares import Share
from filedock.errors import Code

router = APIRouter(tags=["shares"])
ShareId = Annotated[str, Path(max_length=64)]
# Unbounded on purpose: any forged token, however long, is looked up (by hash) and is 404.
Token = Annotated[str, Path(description="The token of the share URL.")]


class CreateShare(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    expires_in: int | str = Field(
        description="Seconds, or a number with a unit: 90s, 30m, 12h, 1d, 2w (at most 365d).",
        examples=[86400, "1d"],
    )
    max_downloads: int | None = Field(None, ge=1, description="Bodies served, then 410.")


class ShareOut(BaseModel):
    """A link as listed: never its token, which only the creation answer holds."""

    id: str
    file_id: str
    state: str = Field(description="active, expired, revoked or used_up")
    created_by: str
    created_at: datetime
    expires_at: datetime
    max_downloads: int | None
    downloads: int
    revoked_at: datetime | None

    @classmethod
    def of(cls, share: Share, **extra: Any) -> Self:
        fields = {k: v for k, v in vars(share).items() if k != "tenant"}
        return cls(**fields, state=share.state(datetime.now(UTC)), **extra)


class CreatedShare(ShareOut):
    url: str = Field(description="Shown once: the download URL holding the token.")


class ShareList(BaseModel):
    items: list[ShareOut]


@router.post(
    "/api/v1/files/{file_id}/shares",
    status_code=201,
    response_model=CreatedShare,
    responses=error_responses(Code.FILE_NOT_FOUND, Code.ACCESS_DENIED),
    summary="Create a share link (its URL is shown once)",
)
async def create_share(
    request: Request,
    services: ServicesDep,
    who: PrincipalDep,
    credential: CredentialDep,
    file_id: FileId,
    spec: Annotated[CreateShare, Body()],
) -> CreatedShare:
    share, token = await services.shares.create(
        who,
        file_id,
        expires_in=spec.expires_in,
        max_downloads=spec.max_downloads,
        credential=credential,
    )
    return CreatedShare.of(share, url=f"{base_url(request)}/s/{token}")


@router.get(
    "/api/v1/files/{file_id}/shares",
    response_model=ShareList,
    responses=error_responses(Code.FILE_NOT_FOUND, Code.ACCESS_DENIED),
    summary="The file's share links, oldest first (without their tokens)",
)
async def list_shares(
    services: ServicesDep, who: PrincipalDep, credential: CredentialDep, file_id: FileId
) -> ShareList:
    shares = await services.shares.listed(who, file_id, credential)
    return ShareList(items=[ShareOut.of(s) for s in shares])


@router.delete(
    "/api/v1/shares/{share_id}",
    status_code=204,
    responses=error_responses(Code.SHARE_NOT_FOUND, Code.ACCESS_DENIED),
    summary="Revoke a share link (idempotent)",
)
async def revoke_share(
    services: ServicesDep, who: PrincipalDep, credential: CredentialDep, share_id: ShareId
) -> Response:
    await services.shares.revoke(who, share_id, credential)
    return Response(status_code=204)


_DOWNLOAD_RESPONSES = download_responses(Code.SHARE_NOT_FOUND, Code.SHARE_GONE)


@router.get(
    "/s/{token}",
    responses=_DOWNLOAD_RESPONSES,
    operation_id="download_shared",
    summary="Download through a share link, no key needed (Range and conditional headers)",
)
@router.head(
    "/s/{token}",
    responses=_DOWNLOAD_RESPONSES,
    operation_id="download_shared_headers",
    summary="Share link download headers only (not counted)",
)
async def download_shared(
    request: Request,
    services: ServicesDep,
    token: Token,
    conditions: DownloadHeadersDep,
) -> Response:
    share, record = await services.shares.open(token)
    response = serve_file(services.storage.backend, record, request.method, conditions=conditions)
    if request.method == "GET" and response.status_code in (200, 206):
        await services.shares.count_download(share)  # before the first byte leaves
    return response
