"""Every SQL statement of filedock about uploads, parts and jobs (files: db/files.py);
the core talks to the database only through here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Executable, Table, delete, func, insert, select, update
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from filedock.core.models import Job, JobState, Part, Upload, UploadState, WireEcho
from filedock.core.paths import path_key
from filedock.db.files import FileRows
from filedock.db.tables import jobs, parts, tus_uploads, uploads, utc


def _upload(row: RowMapping, upload_parts: list[Part]) -> Upload:
    data = dict(row)
    data.pop("path_key")
    data["state"] = UploadState(data["state"])
    for key in ("created_at", "updated_at", "expires_at"):
        data[key] = utc(data[key])
    return Upload(**data, parts=upload_parts)


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


class Repository(FileRows):
    """Uploads, their ledger of parts and jobs; files come from FileRows."""

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
