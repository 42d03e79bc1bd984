"""Finished files: look-up, listing, renaming, moving and deletion, for a principal.

Inside a tenant, files are shared by its users (a team drive); another tenant's file is
answered exactly like a missing one. A private file (uploaded with a seed-API credential)
shows its metadata only to tenant admins or to whoever presents its credential, and its
bytes only to the credential or a signed link; renaming or deleting it needs the
credential or admin scope.
"""

from __future__ import annotations

from typing import Any, Protocol

from filedock.core.access import Credential, credential_matches
from filedock.core.models import FileRecord
from filedock.core.naming import safe_filename
from filedock.core.paths import PathTaken, normalize_path, normalize_prefix, path_exists
from filedock.core.principal import READ, WRITE, Principal
from filedock.errors import Code, FiledockError
from filedock.storage.base import Backend


class FileLedger(Protocol):
    async def get_file(self, file_id: str) -> FileRecord | None: ...
    async def file_at(self, tenant: str, path: str) -> FileRecord | None: ...
    async def list_files(
        self,
        tenant: str,
        *,
        private: bool,
        prefix: str | None,
        path_prefix: str | None,
        content_type: str | None,
        limit: int,
        offset: int,
        direct: bool = False,
    ) -> tuple[list[FileRecord], int]: ...
    async def subfolders(self, tenant: str, private: bool, folder: str) -> list[str]: ...
    async def update_file(self, file_id: str, **values: Any) -> bool: ...
    async def move_file(
        self, file_id: str, tenant: str, path: str, if_exists: str
    ) -> tuple[str, FileRecord | None]: ...
    async def delete_file(self, file_id: str) -> bool: ...


def _missing(file_id: str) -> FiledockError:
    return FiledockError(Code.FILE_NOT_FOUND, f"No file has the id {file_id!r}.")


def opens(record: FileRecord, credential: Credential | None) -> bool:
    """Whether `credential` is the private file's own (always true for a public file)."""
    if record.credential_hash is None:
        return True
    return credential is not None and credential_matches(record.credential_hash, credential)


class FileService:
    def __init__(self, ledger: FileLedger, storage: Backend) -> None:
        self.ledger = ledger
        self.storage = storage

    async def find(self, who: Principal, file_id: str) -> FileRecord:
        """The tenant's file, private or not (the caller decides what to reveal)."""
        who.require(READ)
        record = await self.ledger.get_file(file_id)
        if record is None or record.tenant != who.tenant:
            raise _missing(file_id)
        return record

    async def signed(self, file_id: str) -> FileRecord:
        """The file a signed link names; the caller checks the link's signature."""
        record = await self.ledger.get_file(file_id)
        if record is None:
            raise _missing(file_id)
        return record

    async def get(
        self, who: Principal, file_id: str, credential: Credential | None = None
    ) -> FileRecord:
        """The file's metadata: a private one for its credential or a tenant admin."""
        record = await self.find(who, file_id)
        if not (who.is_admin or opens(record, credential)):
            raise FiledockError(Code.ACCESS_DENIED)
        return record

    async def readable(
        self, who: Principal, file_id: str, credential: Credential | None = None
    ) -> FileRecord:
        """The file whose bytes `who` may read: a private one only with its credential."""
        record = await self.find(who, file_id)
        if not opens(record, credential):
            raise FiledockError(
                Code.ACCESS_DENIED,
                "This file is private: present its credential or a signed download link.",
            )
        return record

    async def by_path(self, who: Principal, path: str) -> FileRecord:
        who.require(READ)
        record = await self.ledger.file_at(who.tenant, normalize_path(path))
        if record is None or not (who.is_admin or record.credential_hash is None):
            raise FiledockError(Code.FILE_NOT_FOUND, f"No file is at {path!r}.")
        return record

    async def list(
        self,
        who: Principal,
        *,
        prefix: str | None,
        folder: str | None = None,
        direct: bool = False,
        content_type: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[FileRecord], int, list[str] | None]:
        """The tenant's files (by name prefix, or under a folder); `direct`: only the
        folder's own files, and its sub-folders. Private ones are listed to admins only."""
        who.require(READ)
        folder = normalize_prefix(folder) if folder is not None else None
        records, total = await self.ledger.list_files(
            who.tenant,
            private=who.is_admin,
            prefix=prefix,
            path_prefix=folder,
            content_type=content_type,
            limit=limit,
            offset=offset,
            direct=direct,
        )
        if folder is None or not direct:
            return records, total, None
        return records, total, await self.ledger.subfolders(who.tenant, who.is_admin, folder)

    async def update(
        self,
        who: Principal,
        file_id: str,
        *,
        name: str | None,
        metadata: dict[str, Any] | None,
        path: str | None = None,
        if_exists: str = "fail",
        credential: Credential | None = None,
    ) -> FileRecord:
        """Re-describe, rename, or move to `path` by document 002's rules (`if_exists`)."""
        record = await self._writable(who, file_id, credential)
        if path is not None:
            await self._move(who, record, normalize_path(path), if_exists)
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = safe_filename(name)
        if metadata is not None:
            values["metadata"] = metadata
        if values and not await self.ledger.update_file(record.id, **values):
            raise _missing(file_id)
        return await self.find(who, file_id)

    async def _move(self, who: Principal, record: FileRecord, path: str, if_exists: str) -> None:
        try:
            _, replaced = await self.ledger.move_file(record.id, who.tenant, path, if_exists)
        except PathTaken:
            raise path_exists(path, await self.ledger.file_at(who.tenant, path)) from None
        if replaced is not None:
            await self.storage.delete(replaced.storage_key)

    async def delete(
        self, who: Principal, file_id: str, credential: Credential | None = None
    ) -> None:
        """Row first: a crash in between leaves an orphan object, never a dangling row."""
        record = await self._writable(who, file_id, credential)
        await self.ledger.delete_file(record.id)
        await self.storage.delete(record.storage_key)

    async def _writable(
        self, who: Principal, file_id: str, credential: Credential | None
    ) -> FileRecord:
        who.require(WRITE)
        record = await self.find(who, file_id)
        if not (who.is_admin or opens(record, credential)):
            raise FiledockError(Code.ACCESS_DENIED)
        return record
