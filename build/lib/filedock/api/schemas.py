"""JSON shapes of the native API (requests are strict: "10" is not a number)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from filedock.core.ledger import missing_chunks
from filedock.core.models import FileRecord, Upload, UploadState

MAX_METADATA_BYTES = 16 * 1024


def _check_metadata(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is not None and len(json.dumps(value)) > MAX_METADATA_BYTES:
        raise ValueError(f"metadata must serialise to at most {MAX_METADATA_BYTES} bytes")
    return value


class CreateUpload(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    filename: str = Field(min_length=1, max_length=1024, examples=["holiday.mp4"])
    size: int | None = Field(None, ge=0, description="Bytes; may be left out and given later.")
    content_type: str | None = Field(None, max_length=255, examples=["video/mp4"])
    metadata: dict[str, Any] = Field(default_factory=dict)
    chunk_size: int | None = Field(None, gt=0, description="Requested; the server may clamp it.")
    sha256: str | None = Field(None, pattern=r"^[0-9a-fA-F]{64}$")
    md5: str | None = Field(None, pattern=r"^[0-9a-fA-F]{32}$")

    _metadata = field_validator("metadata")(_check_metadata)


class CompleteUpload(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    size: int | None = Field(None, ge=0, description="Needed only if not declared at creation.")


class UpdateFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str | None = Field(None, min_length=1, max_length=1024)
    metadata: dict[str, Any] | None = None

    _metadata = field_validator("metadata")(_check_metadata)


class UploadOut(BaseModel):
    id: str
    state: UploadState
    filename: str
    content_type: str
    metadata: dict[str, Any]
    size: int | None
    chunk_size: int
    chunk_count: int | None
    received_chunks: list[int]
    missing_chunks: list[int]
    bytes_received: int
    file_id: str | None
    error: str | None
    created_at: datetime
    expires_at: datetime
    urls: dict[str, str]

    @classmethod
    def of(cls, upload: Upload, base: str) -> UploadOut:
        received = sorted(p.number for p in upload.parts)
        if upload.size is not None:
            missing = missing_chunks(upload, upload.size)
        else:
            missing = [i for i in range(max(received, default=-1)) if i not in set(received)]
        done = upload.state not in (UploadState.RECEIVING, UploadState.FAILED)
        url = f"{base}/api/v1/uploads/{upload.id}"
        return cls(
            id=upload.id,
            state=upload.state,
            filename=upload.filename,
            content_type=upload.content_type,
            metadata=upload.metadata,
            size=upload.size,
            chunk_size=upload.chunk_size,
            chunk_count=upload.chunk_count,
            received_chunks=[] if done else received,
            missing_chunks=[] if done else missing,
            bytes_received=upload.size
            if upload.state == UploadState.COMPLETED and upload.size is not None
            else upload.bytes_received,
            file_id=upload.file_id,
            error=upload.error,
            created_at=upload.created_at,
            expires_at=upload.expires_at,
            urls={"self": url, "chunk": url + "/chunks/{index}", "complete": url + "/complete"},
        )


class ChunkReceipt(BaseModel):
    """What a chunk PUT answers: small and constant-size; GET the upload for the full picture."""

    upload_id: str
    index: int
    offset: int
    size: int


class FileOut(BaseModel):
    id: str
    name: str
    size: int
    content_type: str
    sha256: str
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    urls: dict[str, str]

    @classmethod
    def of(cls, record: FileRecord, base: str) -> FileOut:
        url = f"{base}/api/v1/files/{record.id}"
        return cls(
            id=record.id,
            name=record.name,
            size=record.size,
            content_type=record.content_type,
            sha256=record.sha256,
            metadata=record.metadata,
            created_at=record.created_at,
            updated_at=record.updated_at,
            urls={"self": url, "content": url + "/content"},
        )


class FileList(BaseModel):
    items: list[FileOut]
    total: int
    limit: int
    offset: int
