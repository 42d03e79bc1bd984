"""Native chunk API: create, PUT chunks in any order, ask what is there, complete, abort."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Header, Path, Request, Response
from fastapi.responses import JSONResponse

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
    responses=error_responses(Code.FILE_TOO_LARGE),
    summary="Create an upload",
)
async def create_upload(
    request: Request, services: ServicesDep, spec: Annotated[CreateUpload, Body()]
) -> UploadOut:
    upload = await services.uploads.create(
        filename=spec.filename,
        size=spec.size,
        content_type=spec.content_type,
        metadata=spec.metadata,
        chunk_size=spec.chunk_size,
        sha256=spec.sha256,
        md5=spec.md5,
    )
    return UploadOut.of(upload, base_url(request))


@router.get(
    "/{upload_id}",
    response_model=UploadOut,
    responses=error_responses(*_GONE),
    summary="What the server has: received and missing chunks",
)
async def upload_status(request: Request, services: ServicesDep, upload_id: UploadId) -> UploadOut:
    return UploadOut.of(await services.uploads.get(upload_id), base_url(request))


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
        ),
    },
    summary="Assemble the upload into a file (idempotent)",
)
async def complete_upload(
    request: Request,
    services: ServicesDep,
    upload_id: UploadId,
    spec: Annotated[CompleteUpload | None, Body()] = None,
) -> Response:
    upload = await services.uploads.complete_and_settle(
        upload_id, services.settings.complete_wait_seconds, spec.size if spec else None
    )
    if upload.state == UploadState.COMPLETED and upload.file_id:
        record = await services.files.get(upload.file_id)
        return JSONResponse(FileOut.of(record, base_url(request)).model_dump(mode="json"), 201)
    return JSONResponse(UploadOut.of(upload, base_url(request)).model_dump(mode="json"), 202)


@router.delete(
    "/{upload_id}",
    status_code=204,
    responses=error_responses(*_GONE, Code.UPLOAD_NOT_RECEIVING),
    summary="Abort the upload and free its staged bytes",
)
async def abort_upload(services: ServicesDep, upload_id: UploadId) -> Response:
    await services.uploads.abort(upload_id)
    return Response(status_code=204)
