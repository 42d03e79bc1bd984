"""Concatenation: one upload made of finished others, in order (tus parallel uploads).

A client splits a file, sends the pieces as separate uploads in parallel, then asks for
their concatenation. The pieces' bytes are already stored; the storage makes them the
parts of the new upload itself (PartCopier: no byte passes through filedock), the ledger
records each part once it is durable, and the new upload finishes like any other: one
assembly, one hashing pass, one file. The pieces are freed once the file exists; if
anything fails or is still running, they stay (until they expire), so the client can ask
again.
"""

from __future__ import annotations

from typing import Any

from filedock.core.models import Part, Upload, UploadState
from filedock.core.streams import StreamUploads
from filedock.core.uploads import LIVE
from filedock.errors import Code, FiledockError
from filedock.storage.base import part_copier


async def concatenate(
    streams: StreamUploads, sources: list[str], max_size: int, **create: Any
) -> Upload:
    """A new upload holding the bytes of `sources` in order, assembled into a file.

    `create` is what UploadService.create takes besides the size (name, type, metadata,
    owner, protocol); the size is the sum of the sources', at most `max_size`.
    """
    uploads = streams.uploads
    copier = part_copier(uploads.storage)
    if copier is None:
        raise FiledockError(Code.NOT_CONCATENABLE, "This storage cannot concatenate uploads.")
    if not sources:
        raise FiledockError(Code.NOT_CONCATENABLE, "Name at least one upload to concatenate.")
    pieces = [_finished(await uploads.get(source)) for source in sources]
    size = sum(p.bytes_received for p in pieces)
    if size > max_size:
        raise FiledockError(
            Code.FILE_TOO_LARGE,
            f"Together the uploads have {size} bytes; this server accepts {max_size}.",
            max_size=max_size,
        )
    upload = await uploads.create(size=size, **create)
    offset = 0
    for number, piece in enumerate(pieces):
        async with uploads.locks.exclusive(piece.id, streams.lock_wait):
            _finished(await uploads.get(piece.id))  # not aborted or expired meanwhile
            info = await copier.copy_part(
                piece.storage_key, piece.bytes_received, upload.storage_key, number, offset
            )
        part = Part(number=number, offset=offset, size=info.size, etag=info.etag)
        await uploads.ledger.record_part(upload.id, part, upload.expires_at)
        upload.parts.append(part)
        offset += info.size
    upload = await streams.finish(upload)
    if upload.state == UploadState.COMPLETED:
        for source in dict.fromkeys(sources):
            await uploads.abort(source)
    return upload


def _finished(upload: Upload) -> Upload:
    if upload.state not in LIVE or upload.size is None or upload.bytes_received != upload.size:
        raise FiledockError(
            Code.NOT_CONCATENABLE,
            f"Upload {upload.id} is not a finished piece: it has {upload.bytes_received} of "
            f"{upload.size if upload.size is not None else 'an unknown number of'} bytes.",
            upload_id=upload.id,
        )
    return upload
