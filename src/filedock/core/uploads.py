"""UploadService: the one upload core every front-end (native, seed API, tus) translates to.

Rules live here, not in routes: which bytes a part must hold, when an upload may complete,
and the states it goes through; size rules are core/policy.py's, the arithmetic of
received parts core/ledger.py's. Each state change is one conditional UPDATE
(Ledger.transition), and its event is published only when that UPDATE matched.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from filedock.core.events import Event, EventBus, until_settled
from filedock.core.integrity import ALGORITHMS, FrontierTracker, Hasher, metered
from filedock.core.ledger import RESTARTABLE, Ledger, alive, require_every_byte
from filedock.core.models import Job, Part, Upload, UploadState, WireEcho
from filedock.core.naming import safe_filename
from filedock.core.paths import path_exists
from filedock.core.policy import UploadPolicy, check_content_range, check_length
from filedock.core.principal import READ, WRITE, Principal
from filedock.core.quotas import QuotaService
from filedock.errors import Code, FiledockError
from filedock.locks.base import LockService, Release
from filedock.storage.base import Backend, PartCopier

ASSEMBLE = "assemble"
LIVE = (UploadState.RECEIVING,)


def new_id() -> str:
    return uuid.uuid4().hex


class UploadService:
    def __init__(
        self,
        ledger: Ledger,
        storage: Backend,
        locks: LockService,
        bus: EventBus,
        policy: UploadPolicy,
        submit: Callable[[Job], Any],
        quotas: QuotaService,
        *,
        single_process: bool = True,
        copier: PartCopier | None = None,
    ) -> None:
        self.ledger = ledger
        self.storage = storage
        self.copier = copier  # the storage's, when it can concatenate without copying
        self.locks = locks
        self.bus = bus
        self.policy = policy
        self.submit = submit
        self.quotas = quotas
        self.frontiers = FrontierTracker(enabled=single_process)

    # reading -------------------------------------------------------------------------
    async def get(self, who: Principal, upload_id: str, *, with_parts: bool = True) -> Upload:
        """The upload if `who` may see it (its creator, or an admin of its tenant).

        Anyone else gets the same 404 as for an id that does not exist, before any other
        answer (such as 410 for an expired upload) could tell them it exists.
        """
        upload = await self.ledger.get_upload(upload_id, with_parts=with_parts)
        if upload is None or not who.owns(upload.tenant, upload.owner):
            raise FiledockError(Code.UPLOAD_NOT_FOUND, f"No upload has the id {upload_id!r}.")
        return alive(upload)

    async def load(self, upload_id: str, *, with_parts: bool = True) -> Upload:
        """The upload whoever asks: for the core's own work once a principal was checked."""
        upload = await self.ledger.get_upload(upload_id, with_parts=with_parts)
        if upload is None:
            raise FiledockError(Code.UPLOAD_NOT_FOUND, f"No upload has the id {upload_id!r}.")
        return alive(upload)

    # creating ------------------------------------------------------------------------
    async def create(
        self,
        who: Principal,
        *,
        filename: str,
        size: int | None = None,
        content_type: str | None = None,
        metadata: dict[str, Any] | None = None,
        chunk_size: int | None = None,
        sha256: str | None = None,
        md5: str | None = None,
        protocol: str = "native",
        path: str | None = None,
        if_exists: str | None = None,
        echo: WireEcho | None = None,
        takes_over: int = 0,
    ) -> Upload:
        """A new upload of `who`; one aimed at a path comes through core.targets first.

        `takes_over` is what the staged uploads it is made of hold (concatenation), which
        the quota must not count twice."""
        who.require(WRITE)
        if size is not None and size > self.policy.max_file_size:
            raise FiledockError(
                Code.FILE_TOO_LARGE,
                f"The file is {size} bytes; this server accepts at most "
                f"{self.policy.max_file_size}.",
                max_size=self.policy.max_file_size,
            )
        await self.quotas.admit(who.tenant, size, content_type, takes_over)
        now = datetime.now(UTC)
        upload_id = new_id()
        upload = Upload(
            id=upload_id,
            tenant=who.tenant,
            owner=who.user,
            protocol=protocol,
            path=path,
            if_exists=if_exists,
            filename=safe_filename(filename),
            content_type=content_type or "application/octet-stream",
            metadata=metadata or {},
            size=size,
            chunk_size=self.policy.chunk_size_for(chunk_size, size),
            expected_sha256=sha256.lower() if sha256 else None,
            expected_md5=md5.lower() if md5 else None,
            storage_key=f"uploads/{upload_id}",
            state=UploadState.RECEIVING,
            file_id=None,
            error_code=None,
            error=None,
            created_at=now,
            updated_at=now,
            expires_at=now + self.policy.ttl,
        )
        await self.ledger.insert_upload(upload, echo)
        await self.publish("upload.created", upload)
        return upload

    # receiving -----------------------------------------------------------------------
    async def write_chunk(
        self,
        who: Principal,
        upload_id: str,
        index: int,
        body: AsyncIterator[bytes],
        *,
        content_length: int | None = None,
        content_range: tuple[int, int, int | None] | None = None,
        digests: dict[str, bytes] | None = None,
    ) -> Part:
        """Stream chunk `index` to storage; record it only once every byte is durable and right.

        Chunks of one upload are written in parallel (shared hold); re-sending a chunk
        first un-records it, so a failed re-send reports it missing rather than stale.
        The ledger is not loaded: a chunk's cost must not grow with the upload's size.
        """
        who.require(WRITE)
        upload = await self.get(who, upload_id, with_parts=False)
        offset, length, exact = self.policy.chunk_bounds(upload, index)
        if content_range is not None:
            check_content_range(content_range, offset, (length, exact), upload.size)
        if content_length is not None:
            check_length(content_length, length, exact)
        async with self.locks.shared(upload.id, self.policy.lock_timeout):
            upload = await self._receiving(upload_id, with_parts=False)
            if await self.ledger.forget_part(upload.id, index):
                self.frontiers.drop(upload.id)  # re-sent bytes may differ from those hashed
            body = await self.quotas.guard(upload, offset, body, content_length)
            part = await self._store_part(upload, index, offset, (length, exact), body, digests)
        await self.publish("upload.part", upload, number=part.number, size=part.size)
        return part

    async def append(
        self,
        who: Principal,
        upload_id: str,
        offset: int,
        body: AsyncIterator[bytes],
        *,
        content_length: int | None = None,
        digests: dict[str, bytes] | None = None,
        on_release: Release | None = None,
    ) -> Upload:
        """Append bytes at the end of a stream-style upload (tus PATCH).

        `offset` must be where the received bytes end. A body that stops early (a dropped
        connection, which the front-end turns into a short stream) keeps what arrived.
        `on_release` is called if another request waits for this upload meanwhile: the
        front-end then ends the body early, so a dead connection cannot hold the upload.
        """
        who.require(WRITE)
        upload = await self.get(who, upload_id, with_parts=False)  # the ledger is read once
        async with self.locks.exclusive(upload.id, self.policy.lock_timeout, on_release):
            upload = await self._receiving(upload_id)
            end = upload.bytes_received
            if offset != end:
                raise FiledockError(
                    Code.OFFSET_MISMATCH,
                    f"The upload has {end} bytes; data must be sent at offset {end}, not {offset}.",
                    offset=end,
                )
            limit = (upload.size if upload.size is not None else self.policy.max_file_size) - end
            if content_length is not None:
                check_length(content_length, limit, exact=False)
            body = await self.quotas.guard(upload, end, body, content_length)
            number = max((p.number for p in upload.parts), default=-1) + 1
            part = await self._store_part(
                upload, number, end, (limit, False), body, digests, keep_empty=False
            )
        return await self._received(upload, part)

    async def _store_part(
        self,
        upload: Upload,
        number: int,
        offset: int,
        bounds: tuple[int, bool],
        body: AsyncIterator[bytes],
        digests: dict[str, bytes] | None,
        *,
        keep_empty: bool = True,
    ) -> Part:
        """Stream, verify length and digests, then record: the ledger only holds good parts.

        `bounds` is (maximum length, whether the length must be exactly that). An empty
        indexed chunk is recorded (the one chunk of an empty file); an empty append is not.
        """
        length, exact = bounds
        digests = digests or {}
        checks = {name: ALGORITHMS[name]() for name in digests}
        forked = self.frontiers.fork(upload.id, offset, self.whole_file_algorithms(upload))
        counter = [0]
        hashers: list[Hasher] = [*checks.values(), *forked.values()]
        info = await self.storage.write_part(
            upload.storage_key, number, offset, metered(body, length, hashers, counter)
        )
        check_length(counter[0], length, exact)
        for name, hasher in checks.items():
            if hasher.digest() != digests[name]:
                raise FiledockError(
                    Code.CHECKSUM_MISMATCH,
                    f"The data's {name} does not match the digest sent with it.",
                    algorithm=name,
                )
        part = Part(number=number, offset=offset, size=counter[0], etag=info.etag)
        expires_at = datetime.now(UTC) + self.policy.ttl
        if part.size or keep_empty:
            await self.ledger.record_part(upload.id, part, expires_at)
            self.frontiers.advance(upload.id, offset, part.size, forked)
        else:
            await self.ledger.touch_upload(upload.id, expires_at)
        return part

    async def _received(self, upload: Upload, part: Part) -> Upload:
        upload.parts = [p for p in upload.parts if p.number != part.number] + [part]
        upload.parts.sort(key=lambda p: p.offset)
        await self.publish("upload.part", upload, number=part.number, size=part.size)
        return upload

    async def _receiving(self, upload_id: str, *, with_parts: bool = True) -> Upload:
        upload = await self.load(upload_id, with_parts=with_parts)
        if upload.state not in LIVE:
            raise FiledockError(
                Code.UPLOAD_NOT_RECEIVING,
                f"The upload is {upload.state.value}; it no longer accepts data.",
                state=upload.state.value,
            )
        return upload

    @staticmethod
    def whole_file_algorithms(upload: Upload) -> list[str]:
        return ["sha256", "md5"] if upload.expected_md5 else ["sha256"]

    # completing ----------------------------------------------------------------------
    async def complete(
        self, who: Principal, upload_id: str, size: int | None = None, **describe: Any
    ) -> Upload:
        """Check every byte is present and hand assembly to a job; idempotent.

        `describe` may set filename, content_type, metadata and credential_hash for
        front-ends that only learn them at completion (the seed API sends the extension
        last), and if_exists for a client whose path was taken meanwhile (409 path_exists).
        """
        who.require(WRITE)
        described = self._description(describe)
        upload = await self.get(who, upload_id)
        if upload.state in (UploadState.ASSEMBLING, UploadState.COMPLETED):
            return upload
        async with self.locks.exclusive(upload.id, self.policy.lock_timeout):
            upload = await self.load(upload_id)
            if upload.state not in RESTARTABLE:
                return upload
            total = self.policy.final_size(upload, size)
            await self._path_still_free(upload, described.get("if_exists", upload.if_exists))
            require_every_byte(upload, total)
            file_id = upload.file_id or new_id()
            job = Job.pending(new_id(), ASSEMBLE, upload)
            if not await self.ledger.transition(
                upload.id,
                RESTARTABLE,
                UploadState.ASSEMBLING,
                job=job,
                size=total,
                file_id=file_id,
                error=None,
                error_code=None,
                **described,
            ):
                return await self.load(upload_id)
            upload = await self.load(upload_id)
        await self.publish("upload.assembling", upload, job_id=job.id)
        await self.submit(job)
        return upload

    async def complete_and_settle(
        self,
        who: Principal,
        upload_id: str,
        wait: float,
        size: int | None = None,
        **describe: Any,
    ) -> Upload:
        """complete(), then wait up to `wait` seconds for the assembly to end.

        Returns the upload completed, or still assembling after the wait; a failed
        assembly raises its own error, so every front-end reports it the same way.
        """
        async with self.bus.subscribe(upload_id) as events:
            upload = await self.complete(who, upload_id, size, **describe)
            upload = await until_settled(upload, events, wait, self.load)
        if upload.state == UploadState.FAILED:
            code = Code(upload.error_code or Code.ASSEMBLY_FAILED)
            raise FiledockError(code, upload.error, upload_id=upload.id)
        return upload

    async def settle(self, who: Principal, upload_id: str, wait: float) -> Upload:
        """The upload once its assembly (if running) ended, or after `wait` seconds."""
        await self.get(who, upload_id)  # 404 for a stranger, before waiting on anything
        async with self.bus.subscribe(upload_id) as events:
            return await until_settled(await self.load(upload_id), events, wait, self.load)

    async def _path_still_free(self, upload: Upload, if_exists: str | None) -> None:
        """With `if_exists=fail`, a file that took the path since the start is 409 now,
        while the upload can still be completed again with another choice."""
        if upload.path is None or if_exists != "fail":
            return
        existing = await self.ledger.file_at(upload.tenant, upload.path)
        if existing is not None:
            raise path_exists(upload.path, existing)

    @staticmethod
    def _description(describe: dict[str, Any]) -> dict[str, Any]:
        allowed = {"filename", "content_type", "metadata", "credential_hash", "if_exists"}
        unknown = set(describe) - allowed
        if unknown:
            raise TypeError(f"complete() cannot set {sorted(unknown)}")
        values = {k: v for k, v in describe.items() if v is not None}
        if "filename" in values:
            values["filename"] = safe_filename(values["filename"])
        return values

    # ending --------------------------------------------------------------------------
    async def abort(self, who: Principal, upload_id: str) -> None:
        who.require(WRITE)
        upload = await self.get(who, upload_id)
        async with self.locks.exclusive(upload.id, self.policy.lock_timeout):
            if not await self.ledger.transition(upload.id, RESTARTABLE, UploadState.ABORTED):
                raise FiledockError(
                    Code.UPLOAD_NOT_RECEIVING,
                    "Only an upload that is receiving or failed can be aborted.",
                )
            await self._free(upload)
        await self.publish("upload.aborted", upload)

    async def expire_idle(self) -> int:
        """Expire uploads idle past their TTL and free their bytes; returns how many."""
        expired = 0
        for upload_id in await self.ledger.idle_uploads(list(RESTARTABLE), datetime.now(UTC)):
            upload = await self.ledger.get_upload(upload_id)
            if upload is None:
                continue
            async with self.locks.exclusive(upload.id, self.policy.lock_timeout):
                if await self.ledger.transition(upload.id, RESTARTABLE, UploadState.EXPIRED):
                    await self._free(upload)
                    expired += 1
            await self.publish("upload.expired", upload)
        return expired

    async def _free(self, upload: Upload) -> None:
        await self.storage.abort(upload.storage_key)
        await self.ledger.forget_parts(upload.id)
        self.frontiers.drop(upload.id)

    async def publish(self, kind: str, upload: Upload, **data: Any) -> None:
        await self.bus.publish(Event(kind=kind, upload_id=upload.id, data=data))

    async def list_unfinished(self, who: Principal) -> list[Upload]:
        """The uploads `who` can still finish (own ones; a tenant admin: everyone's)."""
        who.require(READ)
        owner = None if who.is_admin else who.user
        states = (*RESTARTABLE, UploadState.ASSEMBLING)
        return await self.ledger.unfinished_uploads(who.tenant, owner, states, datetime.now(UTC))
