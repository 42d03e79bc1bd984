"""What the core needs from the SQL ledger, and the arithmetic of received parts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from filedock.core.models import Job, Part, Upload, UploadState


class Ledger(Protocol):
    """The repository methods the core needs (db.repo.Repository implements them)."""

    async def insert_upload(self, upload: Upload) -> None: ...
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
