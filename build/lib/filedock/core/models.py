"""Domain records handed between the repository, the core and the front-ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


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
