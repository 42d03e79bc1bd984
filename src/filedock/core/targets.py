"""Uploads aimed at a path: document 002's rules, decided when an upload starts.

Before sending a byte, a client learns whether its target path is free: a file there
(`if_exists=fail`) is 409 `path_exists` with that file, so its user can choose to
overwrite; another user's unfinished upload there is 409 `path_busy`; the same user's
unfinished upload there is handed back (`resumed`) so the client sends only what is
missing. The same rules hold again, atomically, when the file is placed at completion
(db.repo.place_file), since the path may have changed meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from filedock.core.ledger import RESTARTABLE
from filedock.core.models import FileRecord, Upload, UploadState
from filedock.core.paths import IF_EXISTS, basename, normalize_path, path_exists, path_key
from filedock.core.principal import WRITE, Principal
from filedock.core.uploads import UploadService
from filedock.errors import Code, FiledockError


class TargetLedger(Protocol):
    async def file_at(self, tenant: str, path: str) -> FileRecord | None: ...
    async def uploads_to(
        self, tenant: str, path: str, states: Sequence[UploadState]
    ) -> list[Upload]: ...


class UploadTargets:
    def __init__(self, uploads: UploadService, ledger: TargetLedger) -> None:
        self.uploads = uploads
        self.ledger = ledger

    async def start(
        self, who: Principal, *, path: str, if_exists: str = "fail", **create: Any
    ) -> tuple[Upload, bool]:
        """A new upload to `path`, or (`resumed`) the caller's own unfinished one."""
        who.require(WRITE)
        if if_exists not in IF_EXISTS:
            raise FiledockError(
                Code.INVALID_REQUEST, f"if_exists must be one of {', '.join(IF_EXISTS)}."
            )
        path = normalize_path(path)
        create.setdefault("filename", basename(path))
        # One start per path at a time, across replicas: two users racing for a free
        # path must not both be told it is free.
        lock = f"path:{who.tenant}:{path_key(path)}"
        async with self.uploads.locks.exclusive(lock, self.uploads.policy.lock_timeout):
            now = datetime.now(UTC)
            unfinished = [
                u
                for u in await self.ledger.uploads_to(who.tenant, path, RESTARTABLE)
                if u.expires_at > now
            ]
            mine = [u for u in unfinished if u.owner == who.user]
            if mine:
                return await self.uploads.get(who, mine[0].id), True
            if unfinished:
                other = unfinished[0]
                raise FiledockError(
                    Code.PATH_BUSY,
                    f"{other.owner} has been uploading to {path!r} since "
                    f"{other.created_at.isoformat()}.",
                    path=path,
                    user=other.owner,
                    since=other.created_at.isoformat(),
                )
            if if_exists == "fail":
                existing = await self.ledger.file_at(who.tenant, path)
                if existing is not None:
                    raise path_exists(path, existing)
            upload = await self.uploads.create(who, path=path, if_exists=if_exists, **create)
        return upload, False
