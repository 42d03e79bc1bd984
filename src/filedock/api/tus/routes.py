"""tus 1.0.0 verbs: translate headers to core calls and core results to headers.

OPTIONS says what the server can do; POST creates (with data, deferred length, or as the
concatenation of partial uploads); HEAD says where an upload stands; PATCH appends;
DELETE terminates; GET downloads the finished file with Range. The rules (offsets, when
an upload becomes a file, what concatenation means) live in core/streams.py and
core/concat.py.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, Response

from filedock.api.auth import PrincipalDep
from filedock.api.deps import ServicesDep
from filedock.api.files import serve_file
from filedock.api.ranges import DownloadHeadersDep
from filedock.api.tus import headers
from filedock.api.tus.headers import OFFSET_OCTET_STREAM, VERSION, http_date
from filedock.api.tus.wire import InterruptibleBody
from filedock.api.uploads import base_url
from filedock.core.concat import concatenate
from filedock.core.models import Upload, UploadState, WireEcho
from filedock.core.principal import Principal
from filedock.core.streams import StreamUploads, offset_of
from filedock.errors import Code, FiledockError
from filedock.storage.base import Storage
from filedock.wiring import Services

OptionalHeader = Annotated[str | None, Header()]
UploadId = Annotated[str, Path(max_length=64)]


@functools.cache
def extensions(storage: Storage) -> str:
    """Tus-Extension, from what the storage can do (its bundle is fixed at start-up)."""
    names = [
        "creation",
        "creation-with-upload",
        "creation-defer-length",
        "expiration",
        "checksum",
        "termination",
    ]
    if storage.copier is not None:
        names.append("concatenation")
    return ",".join(names)


@dataclass(frozen=True)
class Tus:
    """What a tus request works with: the services, stream rules and the protocol limits."""

    services: Services
    who: Principal
    streams: StreamUploads
    base_path: str
    max_size: int

    def within_limit(self, size: int) -> None:
        if size > self.max_size:
            raise FiledockError(
                Code.FILE_TOO_LARGE,
                f"The upload would have {size} bytes; this server accepts {self.max_size}.",
                max_size=self.max_size,
            )

    def url(self, request: Request, upload: Upload) -> str:
        return f"{base_url(request)}{self.base_path}{upload.id}"

    async def role(self, upload_id: str) -> tuple[bool, bool]:
        """(partial, final): how the upload takes part in a concatenation, if at all."""
        concat, _ = await self.services.repo.get_tus_upload(upload_id)
        return concat == "partial", bool(concat and concat.startswith("final"))


def _max_size(services: Services) -> int:
    settings, policy = services.settings, services.uploads.policy
    return min(settings.tus_max_size or policy.max_file_size, policy.max_file_size)


def _tus(services: ServicesDep, who: PrincipalDep) -> Tus:
    settings = services.settings
    return Tus(
        services=services,
        who=who,
        streams=StreamUploads(services.uploads, services.files, settings.complete_wait_seconds),
        base_path=settings.tus_base_path,
        max_size=_max_size(services),
    )


TusDep = Annotated[Tus, Depends(_tus)]


def _resumable(tus_resumable: OptionalHeader = None) -> None:
    """Every request but OPTIONS and GET names the protocol version; 412 otherwise."""
    if tus_resumable != VERSION:
        raise FiledockError(
            Code.TUS_VERSION_UNSUPPORTED,
            f"Tus-Resumable {tus_resumable!r} is not supported; this server speaks {VERSION}.",
        )


def _progress(upload: Upload) -> dict[str, str]:
    """Upload-Offset, and Upload-Expires while the upload can still expire."""
    found = {"Upload-Offset": str(offset_of(upload))}
    if upload.state in (UploadState.RECEIVING, UploadState.FAILED):
        found["Upload-Expires"] = http_date(upload.expires_at)
    return found


async def _append(
    request: Request,
    tus: Tus,
    upload_id: str,
    offset: int,
    content_length: int | None,
    digests: dict[str, bytes],
    finish: bool,
) -> Upload:
    """Stream the request body into the upload; a dead predecessor is asked to let go.

    The limit matters for uploads of deferred length; others were checked at creation.
    """
    if content_length is not None:
        tus.within_limit(offset + content_length)
    body = InterruptibleBody(request)
    return await tus.streams.write(
        tus.who,
        upload_id,
        offset,
        body.stream(),
        content_length=content_length,
        digests=digests,
        on_release=body.release,
        finish=finish,
    )


async def options(services: ServicesDep) -> Response:
    """Open without a credential: browsers send CORS preflights (OPTIONS) without one."""
    return Response(
        status_code=204,
        headers={
            "Tus-Version": VERSION,
            "Tus-Extension": extensions(services.storage),
            "Tus-Max-Size": str(_max_size(services)),
            "Tus-Checksum-Algorithm": ",".join(headers.CHECKSUM_ALGORITHMS),
        },
    )


async def create(
    request: Request,
    tus: TusDep,
    upload_length: OptionalHeader = None,
    upload_defer_length: OptionalHeader = None,
    upload_metadata: OptionalHeader = None,
    upload_concat: OptionalHeader = None,
    upload_checksum: OptionalHeader = None,
    content_type: OptionalHeader = None,
    content_length: OptionalHeader = None,
) -> Response:
    description = headers.metadata(upload_metadata)
    concat = headers.concat(upload_concat, tus.base_path)
    digests = headers.checksum(upload_checksum)
    body_length = headers.uint("Content-Length", content_length)
    describe: dict[str, Any] = {
        "content_type": description.content_type,
        "metadata": description.metadata,
        "protocol": "tus",
    }
    if upload_concat is not None or upload_metadata is not None:
        describe["echo"] = WireEcho(upload_concat, upload_metadata)
    if concat is not None and concat.final:
        if upload_length is not None or upload_defer_length is not None:
            raise headers.invalid("Upload-Length", "a final upload's length is its parts' sum")
        upload = await concatenate(
            tus.who,
            tus.streams,
            list(concat.sources),
            tus.max_size,
            filename=description.filename or "file",
            **describe,
        )
    else:
        size = headers.length(upload_length, upload_defer_length)
        if size is not None:
            tus.within_limit(size)
        upload = await _create(tus, description, size, describe)
    with_data = headers.offset_stream(content_type) or upload.size == 0
    if with_data and (concat is None or not concat.final):
        upload = await _append(request, tus, upload.id, 0, body_length, digests, concat is None)
    found = {"Location": tus.url(request, upload), **_progress(upload)}
    return Response(status_code=201, headers=found)


async def _create(
    tus: Tus, description: headers.Description, size: int | None, describe: dict[str, Any]
) -> Upload:
    """A new upload; one with a `path` goes through the path rules, where the caller's own
    unfinished upload to that path is handed back (HEAD it for its offset)."""
    if description.path is None:
        filename = description.filename or "file"
        return await tus.services.uploads.create(tus.who, size=size, filename=filename, **describe)
    named = {"filename": description.filename} if description.filename else {}
    upload, _ = await tus.services.targets.start(
        tus.who,
        path=description.path,
        if_exists=description.if_exists,
        size=size,
        **named,
        **describe,
    )
    return upload


async def status(tus: TusDep, upload_id: UploadId) -> Response:
    upload = await tus.streams.current(tus.who, upload_id)
    concat, metadata = await tus.services.repo.get_tus_upload(upload.id)
    found = {"Cache-Control": "no-store", **_progress(upload)}
    if upload.size is None:
        found["Upload-Defer-Length"] = "1"
    else:
        found["Upload-Length"] = str(upload.size)
    if metadata is not None:
        found["Upload-Metadata"] = metadata
    if concat is not None:
        found["Upload-Concat"] = concat
    return Response(status_code=200, headers=found)


async def append(
    request: Request,
    tus: TusDep,
    upload_id: UploadId,
    content_type: OptionalHeader = None,
    content_length: OptionalHeader = None,
    upload_offset: OptionalHeader = None,
    upload_length: OptionalHeader = None,
    upload_checksum: OptionalHeader = None,
) -> Response:
    if not headers.offset_stream(content_type):
        raise FiledockError(
            Code.UNSUPPORTED_MEDIA_TYPE, f"PATCH bodies must be {OFFSET_OCTET_STREAM}."
        )
    offset = headers.required_uint("Upload-Offset", upload_offset)
    declared = headers.uint("Upload-Length", upload_length)
    body_length = headers.uint("Content-Length", content_length)
    digests = headers.checksum(upload_checksum)
    await tus.services.uploads.get(tus.who, upload_id, with_parts=False)  # 404 if not theirs
    partial, final = await tus.role(upload_id)
    if final:
        raise FiledockError(Code.UPLOAD_IS_FINAL)
    if declared is not None:
        tus.within_limit(declared)
        await tus.streams.declare_size(tus.who, upload_id, declared)
    upload = await _append(request, tus, upload_id, offset, body_length, digests, not partial)
    return Response(status_code=204, headers=_progress(upload))


async def terminate(tus: TusDep, upload_id: UploadId) -> Response:
    await tus.streams.terminate(tus.who, upload_id)
    return Response(status_code=204)


async def download(
    tus: TusDep,
    upload_id: UploadId,
    conditions: DownloadHeadersDep,
) -> Response:
    upload = await tus.streams.settle(tus.who, upload_id)
    if upload.state != UploadState.COMPLETED or upload.file_id is None:
        raise FiledockError(
            Code.UPLOAD_INCOMPLETE, "The upload is not finished; there is no file to download."
        )
    record = await tus.services.files.readable(tus.who, upload.file_id)
    return serve_file(
        tus.services.storage.backend,
        record,
        "GET",
        conditions=conditions,
    )


def build_router(base_path: str) -> APIRouter:
    """The tus routes under `base_path` ("/files/"): creation at it, uploads below it."""
    router = APIRouter(tags=["tus"])
    versioned = [Depends(_resumable)]
    collection, item = base_path, base_path + "{upload_id}"
    for path, shown in ((collection, True), (collection.rstrip("/"), False)):
        router.add_api_route(
            path, options, methods=["OPTIONS"], include_in_schema=shown, summary="tus: capabilities"
        )
        router.add_api_route(
            path,
            create,
            methods=["POST"],
            dependencies=versioned,
            include_in_schema=shown,
            summary="tus: create an upload (creation, with upload, defer length, concatenation)",
        )
    router.add_api_route(item, options, methods=["OPTIONS"], summary="tus: capabilities")
    router.add_api_route(
        item, status, methods=["HEAD"], dependencies=versioned, summary="tus: the upload's offset"
    )
    router.add_api_route(
        item, append, methods=["PATCH"], dependencies=versioned, summary="tus: append bytes"
    )
    router.add_api_route(
        item, terminate, methods=["DELETE"], dependencies=versioned, summary="tus: terminate"
    )
    router.add_api_route(
        item, download, methods=["GET"], summary="Download the finished upload (Range)"
    )
    return router
