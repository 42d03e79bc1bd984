"""What the core needs from the SQL ledger, and the arithmetic of received parts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from filedock.core.models import FileRecord, Job, Part, Upload, UploadState, WireEcho
from filedock.errors import Code, FiledockError


class Ledger(Protocol):
    """The repository methods the core needs (db.repo.Repository implements them)."""

    async def insert_upload(self, upload: Upload, echo: WireEcho | None = None) -> None: ...
    async def get_upload(self, upload_id: str, *, with_parts: bool = True) -> Upload | None: ...
    async def transition(
        self,
        upload_id: str,
        sources: Iterable[UploadState],
        target: UploadState,
        job: Job | None = None,
        **values: Any,
    ) -> bool: ...
    async def touch_upload(self, upload_id: str, expires_at: datetime) -> None: ...
    async def idle_uploads(self, states: list[UploadState], now: datetime) -> list[str]: ...
    async def record_part(self, upload_id: str, part: Part, expires_at: datetime) -> None: ...
    async def forget_part(self, upload_id: str, number: int) -> bool: ...
    async def forget_parts(self, upload_id: str) -> None: ...
    async def file_at(self, tenant: str, path: str) -> FileRecord | None: ...
    async def unfinished_uploads(
        self, tenant: str, owner: str | None, states: Sequence[UploadState], now: datetime
    ) -> list[Upload]: ...


def contiguous(upload: Upload, total: int) -> bool:
    """Whether the parts hold exactly the bytes [0, total), whatever their sizes.

    Appended uploads (tus) have parts of any size, where chunk indexes say nothing.
    """
    end = 0
    for part in sorted(upload.parts, key=lambda p: p.offset):
        if part.offset != end:
            return False
        end = part.end
    return end == total


def missing_chunks(upload: Upload, total: int) -> list[int]:
    count = max(1, -(-total // upload.chunk_size))
    have = {p.number for p in upload.parts}
    return [i for i in range(count) if i not in have]


RESTARTABLE = (UploadState.RECEIVING, UploadState.FAILED)


def alive(upload: Upload) -> Upload:
    """410 for an upload that expired or was aborted, even before cleanup ran."""
    if upload.state in RESTARTABLE and upload.expires_at <= datetime.now(UTC):
        raise FiledockError(Code.UPLOAD_EXPIRED, expired_at=upload.expires_at.isoformat())
    if upload.state in (UploadState.EXPIRED, UploadState.ABORTED):
        raise FiledockError(
            Code.UPLOAD_EXPIRED, f"The upload was {upload.state.value}; send it again."
        )
    return upload


def require_every_byte(upload: Upload, total: int) -> None:
    """409 `upload_incomplete` naming the missing chunks, unless the parts hold [0, total).

    Appended parts (tus, the WebSocket upload) are numbered by arrival, not by chunk, so
    holes among them name no chunk: they are refused all the same, with the byte count.
    """
    if contiguous(upload, total):
        return
    missing = missing_chunks(upload, total)
    if not missing:
        held = sum(p.size for p in upload.parts)
        raise FiledockError(
            Code.UPLOAD_INCOMPLETE,
            f"The upload holds {held} of its {total} bytes.",
            missing_chunks=[],
            bytes_received=held,
        )
    shown = ", ".join(map(str, missing[:20]))
    more = f" and {len(missing) - 20} more" if len(missing) > 20 else ""
    raise FiledockError(
        Code.UPLOAD_INCOMPLETE,
        f"{len(missing)} chunk(s) are missing: {shown}{more}.",
        missing_chunks=missing,
    )
