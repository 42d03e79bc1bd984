"""Native file API: list, inspect, rename, delete, and download with ranges."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse

from filedock.api.auth import CredentialDep, PrincipalDep, principal_unless_signed
from filedock.api.deps import ServicesDep
from filedock.api.ranges import (
    DownloadHeaders,
    DownloadHeadersDep,
    content_disposition,
    etag_of,
    if_range_holds,
    last_modified,
    not_modified,
    parse_range,
)
from filedock.api.rendering import error_responses
from filedock.api.schemas import FileList, FileOut, UpdateFile
from filedock.api.uploads import base_url
from filedock.core.models import FileRecord
from filedock.core.principal import Principal
from filedock.errors import Code
from filedock.storage.base import Backend

router = APIRouter(prefix="/api/v1/files", tags=["files"])
FileId = Annotated[str, Path(max_length=64)]
_MISSING = error_responses(Code.FILE_NOT_FOUND)


@router.get("", response_model=FileList, summary="List the tenant's files, newest first")
async def list_files(
    request: Request,
    services: ServicesDep,
    who: PrincipalDep,
    prefix: Annotated[
        str | None,
        Query(
            max_length=1024,
            description="A name prefix, or a folder when it starts with / (`/videos/`): "
            "its files and, with delimiter=/, its sub-folders",
        ),
    ] = None,
    delimiter: Annotated[Literal["/"] | None, Query()] = None,
    content_type: Annotated[str | None, Query(max_length=255)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,  # the databases' integers are 64-bit
) -> FileList:
    by_folder = prefix is not None and prefix.startswith("/")
    records, total, folders = await services.files.list(
        who,
        prefix=None if by_folder else prefix,
        folder=prefix if by_folder else None,
        direct=delimiter is not None,
        content_type=content_type,
        limit=limit,
        offset=offset,
    )
    base = base_url(request)
    return FileList(
        items=[FileOut.of(r, base) for r in records],
        folders=folders or [],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/by-path",
    response_model=FileOut,
    responses=error_responses(Code.FILE_NOT_FOUND, Code.PATH_INVALID),
    summary="The file at a path",
)
async def file_by_path(
    request: Request,
    services: ServicesDep,
    who: PrincipalDep,
    path: Annotated[str, Query(min_length=1, max_length=4096)],
) -> FileOut:
    return FileOut.of(await services.files.by_path(who, path), base_url(request))


@router.get("/{file_id}", response_model=FileOut, responses=_MISSING, summary="One file")
async def get_file(
    request: Request,
    services: ServicesDep,
    who: PrincipalDep,
    credential: CredentialDep,
    file_id: FileId,
) -> FileOut:
    return FileOut.of(await services.files.get(who, file_id, credential), base_url(request))


@router.patch(
    "/{file_id}",
    response_model=FileOut,
    responses=_MISSING,
    summary="Rename a file or replace its metadata",
)
async def update_file(
    request: Request,
    services: ServicesDep,
    who: PrincipalDep,
    credential: CredentialDep,
    file_id: FileId,
    spec: Annotated[UpdateFile, Body()],
) -> FileOut:
    record = await services.files.update(
        who,
        file_id,
        name=spec.name,
        metadata=spec.metadata,
        path=spec.path,
        if_exists=spec.if_exists,
        credential=credential,
    )
    return FileOut.of(record, base_url(request))


@router.delete("/{file_id}", status_code=204, responses=_MISSING, summary="Delete a file")
async def delete_file(
    services: ServicesDep, who: PrincipalDep, credential: CredentialDep, file_id: FileId
) -> Response:
    await services.files.delete(who, file_id, credential)
    return Response(status_code=204)


def download_responses(*codes: Code) -> dict[int | str, dict[str, Any]]:
    """OpenAPI answers of a download route (this one, share links): bytes or `codes`."""
    return {
        200: {"content": {"application/octet-stream": {}}, "description": "The bytes"},
        206: {"description": "The requested range"},
        304: {"description": "Not modified (If-None-Match, If-Modified-Since)"},
        **error_responses(*codes, Code.RANGE_NOT_SATISFIABLE, Code.PRECONDITION_FAILED),
    }


_DOWNLOAD_RESPONSES = download_responses(Code.FILE_NOT_FOUND, Code.SIGNATURE_INVALID)


@router.get(
    "/{file_id}/content",
    responses=_DOWNLOAD_RESPONSES,
    operation_id="download_file",
    summary="Download (Range, If-None-Match, If-Range)",
)
@router.head(
    "/{file_id}/content",
    responses=_DOWNLOAD_RESPONSES,
    operation_id="download_file_headers",
    summary="Download headers only",
)
async def download(
    request: Request,
    services: ServicesDep,
    who: Annotated[Principal | None, Depends(principal_unless_signed)],
    credential: CredentialDep,
    file_id: FileId,
    conditions: DownloadHeadersDep,
    disposition: Literal["attachment", "inline"] = "attachment",
    expires: Annotated[int | None, Query(description="Signed link: expiry, Unix time")] = None,
    signature: Annotated[str | None, Query(max_length=128, description="Signed link")] = None,
) -> Response:
    if who is None:  # a signed link is its own credential, whoever holds it
        record = await services.files.signed(file_id)
        services.access.authorize_download(record, expires, signature)
    else:
        record = await services.files.readable(who, file_id, credential)
    redirect = services.access.redirect
    if request.method == "GET" and redirect is not None:
        url = await redirect.presign(
            record.storage_key,
            services.access.redirect_ttl,
            content_disposition(record.name, disposition),
            record.content_type,
        )
        return RedirectResponse(url, status_code=307)
    return serve_file(
        services.storage.backend,
        record,
        request.method,
        disposition=disposition,
        conditions=conditions,
    )


def serve_file(
    storage: Backend,
    record: FileRecord,
    method: str,
    *,
    disposition: str = "attachment",
    conditions: DownloadHeaders = DownloadHeaders(),
) -> Response:
    """The download response every front-end uses (native, signed URLs, tus GET)."""
    headers = {
        "ETag": etag_of(record),
        "Last-Modified": last_modified(record),
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, max-age=0, must-revalidate",
    }
    if not_modified(conditions, record):
        return Response(status_code=304, headers=headers)
    headers["Content-Disposition"] = content_disposition(record.name, disposition)
    wanted = (
        parse_range(conditions.range, record.size)
        if if_range_holds(conditions.if_range, record)
        else None
    )
    start, end, status = 0, record.size, 200
    if wanted is not None:
        start, end, status = wanted.start, wanted.end, 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{record.size}"
    headers["Content-Length"] = str(end - start)
    if method == "HEAD" or start == end:
        return Response(status_code=status, headers=headers, media_type=record.content_type)
    return StreamingResponse(
        storage.read(record.storage_key, start, end),
        status_code=status,
        headers=headers,
        media_type=record.content_type,
    )
