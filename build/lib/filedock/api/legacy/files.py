"""What the seed API calls a file, translated to filedock's uploads, files and jobs.

The seed API hands out a file id at completion, before the merge has run: that is the
upload's `file_id`, allocated by the core. Until the merge succeeds the file is described
by its upload; afterwards by its file record. Its status is the assemble job's state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from filedock.api.legacy.wire import invalid
from filedock.core.access import Access, Credential, require_credential
from filedock.core.models import FileRecord, JobState, Upload, UploadState
from filedock.core.uploads import ASSEMBLE
from filedock.errors import Code, FiledockError
from filedock.wiring import Services

STATUS = {
    JobState.PENDING: "PENDING",
    JobState.STARTED: "STARTED",
    JobState.SUCCESS: "SUCCESS",
    JobState.FAILURE: "FAILURE",
}


@dataclass(frozen=True)
class SeedFile:
    """A file id and what is known of it: from its upload, or from its record once merged."""

    id: str
    name: str
    content_type: str
    metadata: dict[str, Any]
    credential_hash: str | None
    upload: Upload | None  # None only if the upload row is gone and the file remains
    merged: bool

    @classmethod
    def of(cls, file_id: str, upload: Upload | None, record: FileRecord | None) -> SeedFile:
        if record is not None:
            return cls(
                file_id,
                record.name,
                record.content_type,
                record.metadata,
                record.credential_hash,
                upload,
                merged=True,
            )
        assert upload is not None
        return cls(
            file_id,
            upload.filename,
            upload.content_type,
            upload.metadata,
            upload.credential_hash,
            upload,
            merged=False,
        )

    def wire(self, credential: Credential | None, base: str, access: Access) -> dict[str, Any]:
        """The original's file object; `credential` is the one the client proved."""
        private = self.credential_hash is not None
        return {
            "id": self.id,
            "path": f"{'private' if private else 'public'}/{self.name}",
            "content_type": self.content_type,
            "detail": self.metadata or None,
            "credential": credential if private else None,
            "download_url": access.download_url(self.id, private=private, base=base),
        }


def completed(upload: Upload, credential: Credential | None) -> SeedFile:
    """The file a completion announces; completing again needs the same credential."""
    assert upload.file_id is not None  # complete() allocated it
    found = SeedFile.of(upload.file_id, upload, None)
    require_credential(found.credential_hash, credential)
    return found


def expect_totals(upload: Upload, total_chunks: int, total_size: int) -> None:
    """The original clients' totals must agree; the core then checks them against the bytes."""
    count = max(1, -(-total_size // upload.chunk_size))
    if total_chunks != count:
        raise invalid(
            "total_chunks",
            f"{total_size} bytes in chunks of {upload.chunk_size} are {count} chunks, "
            f"not {total_chunks}",
        )


def expect_announced_chunks(upload: Upload, announced: Any) -> None:
    """The browser client announces its chunk count at init and nothing at completion.

    Without this, an upload missing its last chunks would complete as a shorter file.
    Once completed, `announced` is gone from the metadata and the core answers alone.
    """
    if not isinstance(announced, int):
        return
    have = {p.number for p in upload.parts}
    missing = [i for i in range(announced) if i not in have]
    if missing:
        raise FiledockError(
            Code.UPLOAD_INCOMPLETE,
            f"{len(missing)} of the {announced} chunks announced are missing.",
            missing_chunks=missing,
        )
    if max(have) >= announced:
        raise FiledockError(
            Code.SIZE_MISMATCH, f"Chunks past the {announced} announced at init were sent."
        )


async def locate(services: Services, file_id: str, credential: Credential | None) -> SeedFile:
    """The file, if `credential` opens it: 404 for an unknown id, 403 for a wrong one."""
    upload = await services.repo.upload_for_file(file_id)  # first: its file row precedes
    record = await services.repo.get_file(file_id)  # its `completed` state
    if record is None and (upload is None or upload.state == UploadState.COMPLETED):
        raise FiledockError(Code.FILE_NOT_FOUND, f"No file has the id {file_id!r}.")
    found = SeedFile.of(file_id, upload, record)
    require_credential(found.credential_hash, credential)
    return found


async def merge_status(services: Services, found: SeedFile) -> str:
    """PENDING, STARTED, SUCCESS or FAILURE, from filedock's own record of the job."""
    job = await services.repo.latest_job(found.upload.id, ASSEMBLE) if found.upload else None
    if job is None:
        return "SUCCESS" if found.merged else "PENDING"
    return STATUS[job.state]


async def retry_merge(services: Services, found: SeedFile) -> SeedFile:
    """Re-run a failed merge; the seed API refuses when it succeeded or is still running."""
    if found.upload is None or found.upload.state == UploadState.COMPLETED:
        raise FiledockError(
            Code.JOB_ALREADY_SUCCEEDED, "The file was merged already; there is nothing to retry."
        )
    if found.upload.state == UploadState.ASSEMBLING:
        raise FiledockError(Code.JOB_RUNNING, "The merge is still running; wait for it to end.")
    return SeedFile.of(found.id, await services.uploads.complete(found.upload.id), None)
