"""Native chunk API: create, PUT chunks in any order, ask what is there, complete, abort."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from filedock.api.auth import PrincipalDep
from filedock.api.deps import ServicesDep
from filedock.api.ranges import parse_content_range
from filedock.api.rendering import error_responses
from filedock.api.schemas import ChunkReceipt, CompleteUpload, CreateUpload, FileOut, UploadOut
from filedock.core.integrity import parse_digest_headers
from filedock.core.models import UploadState
from filedock.errors import Code

router = APIRouter(prefix="/api/v1/uploads", tags=["uploads"])
UploadId = Annotated[str, Path(max_length=64, description="The id returned at creation.")]
_GONE = (Code.UPLOAD_NOT_FOUND, Code.UPLOAD_EXPIRED)


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.post(
    "",
    status_code=201,
    response_model=UploadOut,
    responses={
        200: {"model": UploadOut, "description": "Your unfinished upload to this path."},
        **error_responses(
            Code.FILE_TOO_LARGE,
            Code.PATH_EXISTS,
            Code.PATH_INVALID,
            Code.QUOTA_EXCEEDED,
            Code.TYPE_NOT_ALLOWED,
        ),
    },
    summary="Create an upload (or resume yours to the same path)",
)
async def create_upload(
    request: Request,
    services: ServicesDep,
    who: PrincipalDep,
    spec: Annotated[CreateUpload, Body()],
) -> Response:
    """201 with a new upload; 200 with the caller's own unfinished upload to `path`."""
    described: dict[str, Any] = {
        "size": spec.size,
        "content_type": spec.content_type,
        "metadata": spec.metadata,
        "chunk_size": spec.chunk_size,
        "sha256": spec.sha256,
        "md5": spec.md5,
    }
    resumed = False
    if spec.path is not None:
        named = {"filename": spec.filename} if spec.filename else {}
        upload, resumed = await services.targets.start(
            who, path=spec.path, if_exists=spec.if_exists, **named, **described
        )
    else:
        assert spec.filename is not None  # the schema asks for one of the two
        upload = await services.uploads.create(who, filename=spec.filename, **described)
    out = UploadOut.of(upload, base_url(request), resumed=resumed)
    return JSONResponse(out.model_dump(mode="json"), status_code=200 if resumed else 201)


class UploadList(BaseModel):
    items: list[UploadOut]


@router.get(
    "",
    response_model=UploadList,
    summary="The caller's unfinished uploads, newest first (an admin's: the tenant's)",
)
async def list_uploads(request: Request, services: ServicesDep, who: PrincipalDep) -> UploadList:
    base = base_url(request)
    return UploadList(
        items=[UploadOut.of(u, base) for u in await services.uploads.list_unfinished(who)]
    )


@router.get(
    "/{upload_id}",
    response_model=UploadOut,
    responses=error_responses(*_GONE),
    summary="What the server has: received and missing chunks",
)
async def upload_status(
    request: Request, services: ServicesDep, who: PrincipalDep, upload_id: UploadId
) -> UploadOut:
    return UploadOut.of(await services.uploads.get(who, upload_id), base_url(request))


@router.put(
    "/{upload_id}/chunks/{index}",
    response_model=ChunkReceipt,
    responses=error_responses(
        *_GONE,
        Code.UPLOAD_NOT_RECEIVING,
        Code.CHUNK_INDEX_OUT_OF_RANGE,
        Code.CHUNK_LENGTH_MISMATCH,
        Code.CHUNK_TOO_LARGE,
        Code.CHECKSUM_MISMATCH,
        Code.BAD_DIGEST_HEADER,
        Code.STORAGE_FULL,
        Code.UPLOAD_BUSY,
        Code.QUOTA_EXCEEDED,
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
    summary="Send one chunk (raw body, idempotent, any order)",
)
async def put_chunk(
    request: Request,
    services: ServicesDep,
    who: PrincipalDep,
    upload_id: UploadId,
    index: Annotated[int, Path(ge=0, le=1_000_000)],
    content_length: Annotated[int | None, Header(ge=0)] = None,
    content_md5: Annotated[str | None, Header()] = None,
    content_digest: Annotated[str | None, Header()] = None,
    repr_digest: Annotated[str | None, Header()] = None,
    content_range: Annotated[str | None, Header()] = None,
) -> ChunkReceipt:
    digests = parse_digest_headers(content_md5, content_digest, repr_digest)
    part = await services.uploads.write_chunk(
        who,
        upload_id,
        index,
        request.stream(),
        content_length=content_length,
        content_range=parse_content_range(content_range),
        digests=digests,
    )
    return ChunkReceipt(upload_id=upload_id, index=part.number, offset=part.offset, size=part.size)


@router.post(
    "/{upload_id}/complete",
    status_code=201,
    response_model=FileOut,
    responses={
        202: {"model": UploadOut, "description": "Assembly still running; poll the upload."},
        **error_responses(
            *_GONE,
            Code.UPLOAD_INCOMPLETE,
            Code.SIZE_MISMATCH,
            Code.CHECKSUM_MISMATCH,
            Code.FILE_TOO_LARGE,
            Code.UPLOAD_BUSY,
            Code.TYPE_NOT_ALLOWED,
        ),
    },
    summary="Assemble the upload into a file (idempotent)",
)
async def complete_upload(
    request: Request,
    services: ServicesDep,
    who: PrincipalDep,
    upload_id: UploadId,
    spec: Annotated[CompleteUpload | None, Body()] = None,
) -> Response:
    upload = await services.uploads.complete_and_settle(
        who,
        upload_id,
        services.settings.complete_wait_seconds,
        spec.size if spec else None,
        if_exists=spec.if_exists if spec else None,
    )
    if upload.state == UploadState.COMPLETED and upload.file_id:
        record = await services.files.find(who, upload.file_id)
        return JSONResponse(FileOut.of(record, base_url(request)).model_dump(mode="json"), 201)
    return JSONResponse(UploadOut.of(upload, base_url(request)).model_dump(mode="json"), 202)


@router.delete(
    "/{upload_id}",
    status_code=204,
    responses=error_responses(*_GONE, Code.UPLOAD_NOT_RECEIVING),
    summary="Abort the upload and free its staged bytes",
)
async def abort_upload(services: ServicesDep, who: PrincipalDep, upload_id: UploadId) -> Response:
    await services.uploads.abort(who, upload_id)
    return Response(status_code=204)
