"""Every SQL statement of filedock; the core talks to the database only through here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Executable, Table, delete, func, insert, select, update
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from filedock.core.models import FileRecord, Job, JobState, Part, Upload, UploadState, WireEcho
from filedock.core.paths import PathTaken, basename, path_key, renamed
from filedock.db.tables import files, jobs, parts, tus_uploads, uploads


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything in filedock is aware UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _upload(row: RowMapping, upload_parts: list[Part]) -> Upload:
    data = dict(row)
    data.pop("path_key")
    data["state"] = UploadState(data["state"])
    for key in ("created_at", "updated_at", "expires_at"):
        data[key] = utc(data[key])
    return Upload(**data, parts=upload_parts)


def _file(row: RowMapping) -> FileRecord:
    data = dict(row)
    data.pop("path_key")
    data["created_at"], data["updated_at"] = utc(data["created_at"]), utc(data["updated_at"])
    return FileRecord(**data)


def _job(row: RowMapping) -> Job:
    data = dict(row)
    data["state"] = JobState(data["state"])
    data["created_at"], data["updated_at"] = utc(data["created_at"]), utc(data["updated_at"])
    return Job(**data)


def upsert(dialect: str, table: Table, values: dict[str, Any], keys: list[str]) -> Executable:
    """INSERT, or UPDATE the row with the same `keys`, atomically, in each dialect's words."""
    changed = {k: v for k, v in values.items() if k not in keys}
    if dialect == "mysql":
        return mysql_insert(table).values(**values).on_duplicate_key_update(**changed)
    dialect_insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = dialect_insert(table).values(**values)
    return statement.on_conflict_do_update(index_elements=keys, set_=changed)


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


class Repository:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    # uploads -----------------------------------------------------------------
    async def insert_upload(self, upload: Upload, echo: WireEcho | None = None) -> None:
        """The upload row and, in the same transaction, what its protocol must echo."""
        values = {k: v for k, v in vars(upload).items() if k != "parts"}
        values["path_key"] = path_key(upload.path)
        async with self.engine.begin() as conn:
            await conn.execute(insert(uploads).values(**values))
            if echo is not None:
                await conn.execute(insert(tus_uploads).values(upload_id=upload.id, **vars(echo)))

    async def get_upload(self, upload_id: str, *, with_parts: bool = True) -> Upload | None:
        """The upload; `with_parts=False` skips the ledger (a chunk PUT needs only the row)."""
        async with self.engine.connect() as conn:
            row = (
                (await conn.execute(select(uploads).where(uploads.c.id == upload_id)))
                .mappings()
                .first()
            )
            if row is None or not with_parts:
                return None if row is None else _upload(row, [])
            part_rows = await conn.execute(
                select(parts.c.number, parts.c.offset, parts.c.size, parts.c.etag)
                .where(parts.c.upload_id == upload_id)
                .order_by(parts.c.offset)
            )
            return _upload(row, [Part(*r) for r in part_rows])

    async def upload_for_file(self, file_id: str) -> Upload | None:
        """The upload that made, or is making, file `file_id` (known from completion on)."""
        async with self.engine.connect() as conn:
            upload_id = (
                await conn.execute(select(uploads.c.id).where(uploads.c.file_id == file_id))
            ).scalar()
        return None if upload_id is None else await self.get_upload(upload_id)

    async def transition(
        self,
        upload_id: str,
        sources: Iterable[UploadState],
        target: UploadState,
        job: Job | None = None,
        **values: Any,
    ) -> bool:
        """Move an upload between states only if it is in one of `sources`.

        The conditional UPDATE is what makes "exactly one file" hold across requests and
        replicas: of two concurrent completions, only one sees a matched row. A `job`
        is inserted in the same transaction, so no crash can leave an upload waiting
        for a job that was never recorded.
        """
        statement = (
            update(uploads)
            .where(uploads.c.id == upload_id, uploads.c.state.in_([s.value for s in sources]))
            .values(state=target.value, updated_at=datetime.now(UTC), **values)
        )
        async with self.engine.begin() as conn:
            result = await conn.execute(statement)
            if result.rowcount and job is not None:
                await conn.execute(insert(jobs).values(**vars(job)))
        return bool(result.rowcount)

    async def touch_upload(self, upload_id: str, expires_at: datetime) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(uploads)
                .where(uploads.c.id == upload_id)
                .values(updated_at=datetime.now(UTC), expires_at=expires_at)
            )

    async def idle_uploads(self, states: Sequence[UploadState], now: datetime) -> list[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(uploads.c.id).where(
                    uploads.c.state.in_([s.value for s in states]), uploads.c.expires_at < now
                )
            )
            return [r[0] for r in rows]

    # the ledger ----------------------------------------------------------------
    async def record_part(self, upload_id: str, part: Part, expires_at: datetime) -> None:
        """Upsert in one statement: two replicas recording the same part at once must not
        collide (delete-then-insert raced into duplicate keys and MySQL gap-lock deadlocks).
        The upload's expiry moves in the same transaction, first: taking the upload row's
        write lock before the part's foreign-key check takes a shared one avoids the
        shared-then-exclusive deadlock of parallel chunks on MySQL.
        """
        values = {
            "upload_id": upload_id,
            "number": part.number,
            "offset": part.offset,
            "size": part.size,
            "etag": part.etag,
            "created_at": datetime.now(UTC),
        }
        async with self.engine.begin() as conn:
            await conn.execute(
                update(uploads)
                .where(uploads.c.id == upload_id)
                .values(updated_at=values["created_at"], expires_at=expires_at)
            )
            await conn.execute(upsert(conn.dialect.name, parts, values, ["upload_id", "number"]))

    async def forget_part(self, upload_id: str, number: int) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(
                delete(parts).where(parts.c.upload_id == upload_id, parts.c.number == number)
            )
        return bool(result.rowcount)

    async def forget_parts(self, upload_id: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(parts).where(parts.c.upload_id == upload_id))

    # tus: headers echoed as sent -------------------------------------------------
    async def get_tus_upload(self, upload_id: str) -> tuple[str | None, str | None]:
        """(Upload-Concat, Upload-Metadata) as the client sent them; (None, None) if neither."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(tus_uploads.c.concat, tus_uploads.c.metadata_header).where(
                        tus_uploads.c.upload_id == upload_id
                    )
                )
            ).first()
        return (None, None) if row is None else (row[0], row[1])

    # files -----------------------------------------------------------------------
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

    async def uploads_to(
        self, tenant: str, path: str, states: Sequence[UploadState]
    ) -> list[Upload]:
        """Unfinished uploads aimed at `path`, oldest first (document 002's busy rule)."""
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(uploads)
                    .where(
                        uploads.c.tenant == tenant,
                        uploads.c.path_key == path_key(path),
                        uploads.c.state.in_([s.value for s in states]),
                    )
                    .order_by(uploads.c.created_at)
                )
            ).mappings()
            return [_upload(r, []) for r in rows]

    async def update_file(self, file_id: str, **values: Any) -> bool:
        """Change a file's row; raises PathTaken when its new path holds another file."""
        if "path" in values:
            values["path_key"] = path_key(values["path"])
        try:
            async with self.engine.begin() as conn:
                result = await conn.execute(
                    update(files)
                    .where(files.c.id == file_id)
                    .values(updated_at=datetime.now(UTC), **values)
                )
        except IntegrityError as exc:
            raise PathTaken(values.get("path")) from exc
        return bool(result.rowcount)

    async def delete_file(self, file_id: str) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(delete(files).where(files.c.id == file_id))
        return bool(result.rowcount)

    # jobs --------------------------------------------------------------------------
    async def insert_job(self, job: Job) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(insert(jobs).values(**vars(job)))

    async def get_job(self, job_id: str) -> Job | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(jobs).where(jobs.c.id == job_id))).mappings().first()
        return None if row is None else _job(row)

    async def latest_job(self, subject_id: str, kind: str) -> Job | None:
        async with self.engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(jobs)
                        .where(jobs.c.subject_id == subject_id, jobs.c.kind == kind)
                        .order_by(jobs.c.created_at.desc())
                        .limit(1)
                    )
                )
                .mappings()
                .first()
            )
        return None if row is None else _job(row)

    async def state_counts(self) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
        """Uploads by state and jobs by (kind, state), for the metrics gauges."""
        async with self.engine.connect() as conn:
            upload_rows = await conn.execute(
                select(uploads.c.state, func.count()).group_by(uploads.c.state)
            )
            job_rows = await conn.execute(
                select(jobs.c.kind, jobs.c.state, func.count()).group_by(jobs.c.kind, jobs.c.state)
            )
            return (
                {state: int(n) for state, n in upload_rows},
                {(kind, state): int(n) for kind, state, n in job_rows},
            )

    async def unfinished_jobs(self) -> list[Job]:
        states = [JobState.PENDING.value, JobState.STARTED.value]
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(jobs).where(jobs.c.state.in_(states)))).mappings()
            return [_job(r) for r in rows]

    async def set_job_state(
        self, job_id: str, state: JobState, *, error: str | None = None, attempt: bool = False
    ) -> None:
        values: dict[str, Any] = {"state": state.value, "error": error}
        if attempt:
            values["attempts"] = jobs.c.attempts + 1
        async with self.engine.begin() as conn:
            await conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id)
                .values(updated_at=datetime.now(UTC), **values)
            )

    async def unfinished_uploads(
        self,
        tenant: str,
        owner: str | None,
        states: Sequence[UploadState],
        now: datetime,
        limit: int = 1000,
    ) -> list[Upload]:
        """`tenant`'s uploads in `states` that have not expired, newest first, with their
        parts; only `owner`'s unless None (a tenant admin sees everyone's)."""
        query = select(uploads).where(
            uploads.c.tenant == tenant,
            uploads.c.state.in_([s.value for s in states]),
            uploads.c.expires_at > now,
        )
        if owner is not None:
            query = query.where(uploads.c.owner == owner)
        query = query.order_by(uploads.c.created_at.desc()).limit(limit)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
            found: dict[str, list[Part]] = {row["id"]: [] for row in rows}
            if found:
                part_rows = await conn.execute(
                    select(
                        parts.c.upload_id,
                        parts.c.number,
                        parts.c.offset,
                        parts.c.size,
                        parts.c.etag,
                    )
                    .where(parts.c.upload_id.in_(list(found)))
                    .order_by(parts.c.offset)
                )
                for upload_id, *part in part_rows:
                    found[upload_id].append(Part(*part))
        return [_upload(row, found[row["id"]]) for row in rows]
