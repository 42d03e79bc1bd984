"""Finished files: look-up, listing, renaming and deletion."""

from __future__ import annotations

from typing import Any, Protocol

from filedock.core.models import FileRecord
from filedock.core.naming import safe_filename
from filedock.errors import Code, FiledockError
from filedock.storage.base import Backend


class FileLedger(Protocol):
    async def get_file(self, file_id: str) -> FileRecord | None: ...
    async def list_files(
        self, *, prefix: str | None, content_type: str | None, limit: int, offset: int
    ) -> tuple[list[FileRecord], int]: ...
    async def update_file(self, file_id: str, **values: Any) -> bool: ...
    async def delete_file(self, file_id: str) -> bool: ...


class FileService:
    def __init__(self, ledger: FileLedger, storage: Backend) -> None:
        self.ledger = ledger
        self.storage = storage

    async def get(self, file_id: str) -> FileRecord:
        record = await self.ledger.get_file(file_id)
        if record is None:
            raise FiledockError(Code.FILE_NOT_FOUND, f"No file has the id {file_id!r}.")
        return record

    async def list(
        self, *, prefix: str | None, content_type: str | None, limit: int, offset: int
    ) -> tuple[list[FileRecord], int]:
        return await self.ledger.list_files(
            prefix=prefix, content_type=content_type, limit=limit, offset=offset
        )

    async def update(
        self, file_id: str, *, name: str | None, metadata: dict[str, Any] | None
    ) -> FileRecord:
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = safe_filename(name)
        if metadata is not None:
            values["metadata"] = metadata
        if values and not await self.ledger.update_file(file_id, **values):
            raise FiledockError(Code.FILE_NOT_FOUND, f"No file has the id {file_id!r}.")
        return await self.get(file_id)

    async def delete(self, file_id: str) -> None:
        """Row first: a crash in between leaves an orphan object, never a dangling row."""
        record = await self.get(file_id)
        await self.ledger.delete_file(file_id)
        await self.storage.delete(record.storage_key)
