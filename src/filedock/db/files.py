"""SQL of finished files: placing them at a path by document 002's rules, finding,
listing by folder, moving, re-describing and deleting them, always within a tenant."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from filedock.core.models import FileRecord
from filedock.core.paths import PathTaken, basename, path_key, renamed
from filedock.db.tables import files, utc


def _file(row: RowMapping) -> FileRecord:
    data = dict(row)
    data.pop("path_key")
    data["created_at"], data["updated_at"] = utc(data["created_at"]), utc(data["updated_at"])
    return FileRecord(**data)


def _escaped(prefix: str) -> str:
    """A LIKE pattern's literal part: `%`, `_` and the escape itself mean themselves."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def _free_path(
    conn: AsyncConnection, tenant: str, path: str | None, if_exists: str, mover: str
) -> tuple[str | None, FileRecord | None]:
    """The path a file may take in this transaction, and the file it displaces, if any."""
    if path is None:
        return None, None
    candidate, attempt = path, 0
    while True:
        row = (
            (
                await conn.execute(
                    select(files).where(
                        files.c.tenant == tenant, files.c.path_key == path_key(candidate)
                    )
                )
            )
            .mappings()
            .first()
        )
        if row is None or row["id"] == mover:
            return candidate, None
        if if_exists == "overwrite":
            await conn.execute(delete(files).where(files.c.id == row["id"]))
            return candidate, _file(row)
        if if_exists != "rename" or attempt >= 1000:
            raise PathTaken(candidate)
        attempt += 1
        candidate = renamed(path, attempt)


def _file_conditions(tenant: str, private: bool, folder: str | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [files.c.tenant == tenant]
    if not private:
        conditions.append(files.c.credential_hash.is_(None))
    if folder:
        conditions.append(files.c.path.like(f"{_escaped(folder)}%", escape="\\"))
    return conditions


class FileRows:
    engine: AsyncEngine

    async def insert_file(self, record: FileRecord) -> bool:
        """Insert once: a second insert for the same upload is a no-op (idempotent jobs)."""
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    insert(files).values(**vars(record), path_key=path_key(record.path))
                )
        except IntegrityError:
            return False
        return True

    async def get_file(self, file_id: str) -> FileRecord | None:
        async with self.engine.connect() as conn:
            row = (
                (await conn.execute(select(files).where(files.c.id == file_id))).mappings().first()
            )
        return None if row is None else _file(row)

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
    ) -> tuple[list[FileRecord], int]:
        """One tenant's files; private ones only when `private` (tenant admins); under
        `path_prefix` (a folder ending in `/`), only its direct children when `direct`."""
        conditions = _file_conditions(tenant, private, path_prefix)
        if direct and path_prefix:
            conditions.append(files.c.path.not_like(f"{_escaped(path_prefix)}%/%", escape="\\"))
        if prefix:
            conditions.append(files.c.name.like(f"{_escaped(prefix)}%", escape="\\"))
        if content_type:
            conditions.append(files.c.content_type == content_type)
        query = (
            select(files)
            .where(*conditions)
            .order_by(files.c.created_at.desc(), files.c.id)
            .limit(limit)
            .offset(offset)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
            total = (
                await conn.execute(select(func.count()).select_from(files).where(*conditions))
            ).scalar_one()
        return [_file(r) for r in rows], int(total)

    async def place_file(
        self, record: FileRecord, if_exists: str
    ) -> tuple[FileRecord, FileRecord | None]:
        """Insert a file at its path, deciding a conflict by `if_exists`, in one transaction.

        Returns the file as placed (a renamed path for `rename`) and the file it replaced
        (`overwrite`), whose bytes the caller frees. A reader sees the old file or the new
        one, never a mix: each has its own object, and the rows swap in one commit.
        Raises PathTaken (`fail`). Re-running for the same upload returns its file.
        """
        for _ in range(5):  # two placements racing for one free path: the loser retries
            try:
                async with self.engine.begin() as conn:
                    done = (
                        (
                            await conn.execute(
                                select(files).where(files.c.upload_id == record.upload_id)
                            )
                        )
                        .mappings()
                        .first()
                    )
                    if done is not None:
                        return _file(done), None
                    path, replaced = await _free_path(
                        conn, record.tenant, record.path, if_exists, record.id
                    )
                    placed = FileRecord(**{**vars(record), "path": path})
                    await conn.execute(
                        insert(files).values(**vars(placed), path_key=path_key(path))
                    )
                    return placed, replaced
            except IntegrityError:
                continue
        raise PathTaken(record.path)

    async def move_file(
        self, file_id: str, tenant: str, path: str, if_exists: str
    ) -> tuple[str, FileRecord | None]:
        """Give a file a new path (and that path's name); the same rules as place_file."""
        for _ in range(5):
            try:
                async with self.engine.begin() as conn:
                    placed, replaced = await _free_path(conn, tenant, path, if_exists, file_id)
                    assert placed is not None
                    await conn.execute(
                        update(files)
                        .where(files.c.id == file_id)
                        .values(
                            path=placed,
                            path_key=path_key(placed),
                            name=basename(placed),
                            updated_at=datetime.now(UTC),
                        )
                    )
                    return placed, replaced
            except IntegrityError:
                continue
        raise PathTaken(path)

    async def subfolders(self, tenant: str, private: bool, folder: str) -> list[str]:
        """The folders directly inside `folder` (paths ending in `/`), sorted."""
        deeper = files.c.path.like(f"{_escaped(folder)}%/%", escape="\\")
        query = select(files.c.path).where(*_file_conditions(tenant, private, folder), deeper)
        async with self.engine.connect() as conn:
            paths = (await conn.execute(query)).scalars()
            return sorted({folder + p[len(folder) :].split("/", 1)[0] + "/" for p in paths})

    async def file_at(self, tenant: str, path: str) -> FileRecord | None:
        async with self.engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(files).where(
                            files.c.tenant == tenant, files.c.path_key == path_key(path)
                        )
                    )
                )
                .mappings()
                .first()
            )
        return None if row is None else _file(row)

    async def update_file(self, file_id: str, **values: Any) -> bool:
        """Re-describe a file (name, metadata); moves go through move_file."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(files)
                .where(files.c.id == file_id)
                .values(updated_at=datetime.now(UTC), **values)
            )
        return bool(result.rowcount)

    async def delete_file(self, file_id: str) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(delete(files).where(files.c.id == file_id))
        return bool(result.rowcount)
