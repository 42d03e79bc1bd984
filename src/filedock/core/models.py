"""Domain records handed between the repository, the core and the front-ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from filedock.core.principal import DEFAULT_TENANT


class UploadState(StrEnum):
    RECEIVING = "receiving"
    ASSEMBLING = "assembling"
    COMPLETED = "completed"
    FAILED = "failed"
    ABORTED = "aborted"
    EXPIRED = "expired"


class JobState(StrEnum):
    PENDING = "pending"
    STARTED = "started"
    SUCCESS = "success"
    FAILURE = "failure"


@dataclass(frozen=True)
class Part:
    """One durably written byte range of an upload (a chunk, a tus PATCH, an S3 part)."""

    number: int
    offset: int
    size: int
    etag: str | None = None

    @property
    def end(self) -> int:
        return self.offset + self.size


@dataclass(frozen=True)
class WireEcho:
    """What a protocol must answer exactly as the client sent it at creation (tus HEAD:
    Upload-Concat, Upload-Metadata); stored with the upload, in the same transaction,
    since the concatenation role decides what the upload's last byte does."""

    concat: str | None = None
    metadata_header: str | None = None


@dataclass
class Upload:
    id: str
    owner: str | None
    protocol: str
    filename: str
    content_type: str
    metadata: dict[str, Any]
    size: int | None
    chunk_size: int
    expected_sha256: str | None
    expected_md5: str | None
    storage_key: str
    state: UploadState
    file_id: str | None
    error_code: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    credential_hash: str | None = None  # set at completion, handed on to the file
    tenant: str = DEFAULT_TENANT
    path: str | None = None  # where the file goes in the tenant's namespace (core.paths)
    if_exists: str | None = None  # what completion does when `path` holds a file
    parts: list[Part] = field(default_factory=list)

    @property
    def chunk_count(self) -> int | None:
        if self.size is None:
            return None
        return max(1, -(-self.size // self.chunk_size))

    @property
    def bytes_received(self) -> int:
        return sum(p.size for p in self.parts)


@dataclass
class FileRecord:
    id: str
    owner: str | None
    name: str
    size: int
    content_type: str
    sha256: str
    metadata: dict[str, Any]
    storage_key: str
    upload_id: str | None
    created_at: datetime
    updated_at: datetime
    credential_hash: str | None = None  # a private file (core.access)
    tenant: str = DEFAULT_TENANT
    path: str | None = None

    @property
    def private(self) -> bool:
        return self.credential_hash is not None


@dataclass
class Job:
    id: str
    owner: str | None
    kind: str
    subject_id: str
    state: JobState
    attempts: int
    error: str | None
    created_at: datetime
    updated_at: datetime
    tenant: str = DEFAULT_TENANT

    @classmethod
    def pending(cls, job_id: str, kind: str, upload: Upload) -> Job:
        """A new job of `kind` on `upload`, recorded before anything runs it."""
        now = datetime.now(UTC)
        return cls(
            id=job_id,
            tenant=upload.tenant,
            owner=upload.owner,
            kind=kind,
            subject_id=upload.id,
            state=JobState.PENDING,
            attempts=0,
            error=None,
            created_at=now,
            updated_at=now,
        )
