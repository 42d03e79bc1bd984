"""Native file API: list, inspect, rename, delete, and download with ranges."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse

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
from filedock.errors import Code
from filedock.storage.base import Backend, presigner

router = APIRouter(prefix="/api/v1/files", tags=["files"])
FileId = Annotated[str, Path(max_length=64)]
_MISSING = error_responses(Code.FILE_NOT_FOUND)


@router.get("", response_model=FileList, summary="List files, newest first")
async def list_files(
    request: Request,
    services: ServicesDep,
    prefix: Annotated[str | None, Query(max_length=255, description="Name prefix")] = None,
    content_type: Annotated[str | None, Query(max_length=255)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,  # the databases' integers are 64-bit
) -> FileList:
    records, total = await services.files.list(
        prefix=prefix, content_type=content_type, limit=limit, offset=offset
    )
    base = base_url(request)
    return FileList(
        items=[FileOut.of(r, base) for r in records], total=total, limit=limit, offset=offset
    )


@router.get("/{file_id}", response_model=FileOut, responses=_MISSING, summary="One file")
async def get_file(request: Request, services: ServicesDep, file_id: FileId) -> FileOut:
    return FileOut.of(await services.files.get(file_id), base_url(request))


@router.patch(
    "/{file_id}",
    response_model=FileOut,
    responses=_MISSING,
    summary="Rename a file or replace its metadata",
)
async def update_file(
    request: Request, services: ServicesDep, file_id: FileId, spec: Annotated[UpdateFile, Body()]
) -> FileOut:
    record = await services.files.update(file_id, name=spec.name, metadata=spec.metadata)
    return FileOut.of(record, base_url(request))


@router.delete("/{file_id}", status_code=204, responses=_MISSING, summary="Delete a file")
async def delete_file(services: ServicesDep, file_id: FileId) -> Response:
    await services.files.delete(file_id)
    return Response(status_code=204)


_DOWNLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {}}, "description": "The bytes"},
    206: {"description": "The requested range"},
    304: {"description": "Not modified (If-None-Match)"},
    **error_responses(Code.FILE_NOT_FOUND, Code.RANGE_NOT_SATISFIABLE, Code.SIGNATURE_INVALID),
}


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
    file_id: FileId,
    conditions: DownloadHeadersDep,
    disposition: Literal["attachment", "inline"] = "attachment",
    expires: Annotated[int | None, Query(description="Signed link: expiry, Unix time")] = None,
    signature: Annotated[str | None, Query(max_length=128, description="Signed link")] = None,
) -> Response:
    record = await services.files.get(file_id)
    services.access.authorize_download(record, expires, signature)
    signer = presigner(services.storage)
    if request.method == "GET" and services.settings.download_redirect and signer:
        url = await signer.presign(
            record.storage_key,
            services.settings.redirect_ttl_seconds,
            content_disposition(record.name, disposition),
            record.content_type,
        )
        return RedirectResponse(url, status_code=307)
    return serve_file(
        services.storage,
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
