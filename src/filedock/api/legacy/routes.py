"""The six endpoints of the original file-management service, over the one upload core.

Each path answers with and without its trailing slash (the original's clients use both)
and takes the original's form fields or the document-000 browser client's names.
"""

from __future__ import annotations

import mimetypes
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from filedock.api.auth import TOKEN_PARAMETER, PrincipalDep
from filedock.api.deps import ServicesDep
from filedock.api.legacy.files import (
    completed,
    expect_announced_chunks,
    expect_totals,
    locate,
    merge_status,
    retry_merge,
)
from filedock.api.legacy.forms import (
    BrowserComplete,
    BrowserInit,
    ChunkSpec,
    Retry,
    SeedChunk,
    SeedComplete,
    chunk_spec,
    ready_chunk,
)
from filedock.api.legacy.multipart import MultipartReader, Spool
from filedock.api.legacy.wire import MAX_FIELD, media_type, ok, parse, read_fields
from filedock.api.uploads import base_url
from filedock.core.access import Credential, hash_credential, normalize_credential
from filedock.core.principal import Principal
from filedock.errors import Code, FiledockError
from filedock.wiring import Services

router = APIRouter(prefix="/api/v1/file", tags=["seed-compatible API"])
FileId = Annotated[str, Path(max_length=64)]
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])

PROTOCOL = "seed"
BROWSER_CHUNK_SIZE = 1024 * 1024  # document 000's client slices 1 MiB and never asks
TOTAL_CHUNKS = "totalChunks"  # kept in the upload's metadata from init to completion
FILE_PARTS = ("file", "chunk")


def seed_route(
    path: str, method: str, summary: str, body: dict[str, Any] | None = None
) -> Callable[[Endpoint], Endpoint]:
    """Register `path` and its twin with (or without) the trailing slash, not a redirect."""

    def register(endpoint: Endpoint) -> Endpoint:
        twin = path[:-1] if path.endswith("/") else f"{path}/"
        extra = {"requestBody": body} if body else None
        for route, listed in ((path, True), (twin, False)):
            router.add_api_route(
                route,
                endpoint,
                methods=[method],
                summary=summary,
                include_in_schema=listed,
                openapi_extra=extra,
            )
        return endpoint

    return register


def _body(
    form: type[BaseModel] | None, browser: type[BaseModel] | None = None, file: str = ""
) -> dict[str, Any]:
    """OpenAPI request body: the original's form (multipart only when it carries a file),
    and the browser client's JSON."""
    content: dict[str, Any] = {}
    if form is not None:
        schema = form.model_json_schema()
        media = ["multipart/form-data"]
        if file:
            schema["properties"][file] = {"type": "string", "format": "binary"}
            schema["required"].append(file)
        else:
            media.append("application/x-www-form-urlencoded")
        content |= {name: {"schema": schema} for name in media}
    if browser is not None:
        content["application/json"] = {"schema": browser.model_json_schema()}
    return {"required": form is not None, "content": content}


@seed_route("/upload/init/", "POST", "Start an upload", _body(None, BrowserInit))
async def init_upload(request: Request, services: ServicesDep, who: PrincipalDep) -> JSONResponse:
    fields = await read_fields(request)
    if not {"fileName", "totalChunks"} & fields.keys():
        upload = await services.uploads.create(who, filename="upload", protocol=PROTOCOL)
        return ok(_chunking(upload.id, upload.chunk_size))
    spec = parse(BrowserInit, fields)
    upload = await services.uploads.create(
        who,
        filename=spec.fileName,
        content_type=mimetypes.guess_type(spec.fileName)[0],
        metadata={TOTAL_CHUNKS: spec.totalChunks},
        chunk_size=spec.chunkSize or BROWSER_CHUNK_SIZE,
        protocol=PROTOCOL,
    )
    # Document 000 reads `const { sessionId } = await response.json()`: top level.
    data = _chunking(upload.id, upload.chunk_size) | {"sessionId": upload.id}
    return ok(data, sessionId=upload.id)


def _chunking(upload_id: str, chunk_size: int) -> dict[str, Any]:
    # `chunck_size` is how the original spelled it on the wire; its clients read that.
    return {"chunk_size": chunk_size, "chunck_size": chunk_size, "upload_id": upload_id}


@seed_route(
    "/upload/chunk/",
    "POST",
    "Send one chunk (any order); the browser client names the fields sessionId, chunkIndex, chunk",
    _body(SeedChunk, file="file"),
)
async def upload_chunk(request: Request, services: ServicesDep, who: PrincipalDep) -> JSONResponse:
    """Streams the chunk part into the core when the fields came first; spools it if not."""
    limit = services.uploads.policy.max_chunk_size
    fields: dict[str, Any] = {}
    spec: ChunkSpec | None = None
    spool: Spool | None = None
    try:
        if media_type(request) == "multipart/form-data":
            reader = MultipartReader(request.headers["content-type"], request.stream())
            async for part in reader.parts():
                if part.name not in FILE_PARTS or spec or spool:
                    fields[part.name] = await part.text(MAX_FIELD)
                elif ready := ready_chunk(fields, limit):
                    spec = await _write(services, who, ready, part.body)
                else:
                    spool = Spool()
                    await spool.fill(part.body, limit)
        else:
            fields = await read_fields(request)
        if spec is None:
            spec = chunk_spec(fields, limit, with_file=spool is not None)
            assert spool is not None  # chunk_spec raised otherwise
            await _write(services, who, spec, spool.blocks())
    finally:
        if spool is not None:
            await spool.close()
    return ok(
        {"chunk_index": spec.index, "upload_id": spec.upload_id},
        "The chunk is uploaded successfully!",
    )


async def _write(
    services: Services, who: Principal, spec: ChunkSpec, body: AsyncIterator[bytes]
) -> ChunkSpec:
    if spec.declared_size is not None:
        body = _exactly(body, spec.declared_size)
    await services.uploads.write_chunk(
        who, spec.upload_id, spec.index, body, content_length=spec.declared_size
    )
    return spec


async def _exactly(body: AsyncIterator[bytes], declared: int) -> AsyncIterator[bytes]:
    """The part's bytes, failing the write (so nothing is recorded) unless there are
    exactly as many as its `chunk_size` field says."""
    seen = 0
    async for block in body:
        seen += len(block)
        if seen > declared:
            raise FiledockError(
                Code.CHUNK_TOO_LARGE,
                f"The file part is larger than its chunk_size of {declared} bytes.",
            )
        yield block
    if seen < declared:
        raise FiledockError(
            Code.CHUNK_LENGTH_MISMATCH,
            f"chunk_size says {declared} bytes but the file part has {seen}.",
            expected=declared,
            received=seen,
        )


@seed_route(
    "/upload/complete/",
    "POST",
    "Complete an upload; the merge runs as a background job",
    _body(SeedComplete, BrowserComplete),
)
async def complete_upload(
    request: Request, services: ServicesDep, who: PrincipalDep
) -> JSONResponse:
    fields = await read_fields(request)
    if "sessionId" in fields:
        session = parse(BrowserComplete, fields)
        upload = await services.uploads.get(who, session.sessionId)
        expect_announced_chunks(upload, upload.metadata.get(TOTAL_CHUNKS))
        upload = await services.uploads.complete(who, upload.id, metadata={})
        credential = None
    else:
        spec = parse(SeedComplete, fields)
        upload = await services.uploads.get(who, spec.upload_id)
        expect_totals(upload, spec.total_chunks, spec.total_size)
        credential = spec.credential
        upload = await services.uploads.complete(
            who,
            upload.id,
            spec.total_size,
            filename=f"{upload.id}.{spec.file_extension}",
            content_type=spec.content_type,
            metadata=spec.detail,
            credential_hash=hash_credential(credential) if credential else None,
        )
    found = completed(upload, credential)  # a repeated completion must prove it too
    return ok(found.wire(credential, base_url(request), services.access))


@seed_route("/get/{file_id}", "GET", "A file and its download URL (credential as query)")
async def get_file(
    request: Request, services: ServicesDep, who: PrincipalDep, file_id: FileId
) -> JSONResponse:
    credential = _query_credential(request)
    found = await locate(services, who, file_id, credential)
    return ok(found.wire(credential, base_url(request), services.access))


@seed_route("/status/{file_id}", "GET", "Merge status: PENDING, STARTED, SUCCESS or FAILURE")
async def file_status(
    request: Request, services: ServicesDep, who: PrincipalDep, file_id: FileId
) -> JSONResponse:
    found = await locate(services, who, file_id, _query_credential(request))
    return ok({"status": await merge_status(services, found)})


@seed_route("/upload/retry", "POST", "Re-run a failed merge", _body(Retry, Retry))
async def retry_upload(request: Request, services: ServicesDep, who: PrincipalDep) -> JSONResponse:
    spec = parse(Retry, await read_fields(request))
    found = await locate(services, who, spec.file_id, spec.credential)
    retried = await retry_merge(services, who, found)
    return ok(retried.wire(spec.credential, base_url(request), services.access))


def _query_credential(request: Request) -> Credential | None:
    """The seed API's credential as query parameters (all but filedock's own token)."""
    fields = {k: v for k, v in request.query_params.items() if k != TOKEN_PARAMETER}
    return normalize_credential(fields) or None
