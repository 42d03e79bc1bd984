"""The fields of the seed API in its two dialects, validated as the original did.

The original clients send `upload_id`, `chunk_index`... as form fields; the browser client
of document 000 sends `fileName`, `sessionId`, `chunkIndex`... Each endpoint picks the
dialect by the names present and validates it here, in lax mode (form values are text).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, Literal

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, BeforeValidator, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from filedock.api.legacy.wire import parse
from filedock.api.schemas import MAX_METADATA_BYTES
from filedock.core.access import Credential, normalize_credential

# The original's fixed list, in its order (it appears in the 422 message).
FileExtension = Literal[
    "txt", "jpg", "png", "pdf", "mp4", "mp3", "mov", "avi", "doc", "docx", "xls", "xlsx",
    "ppt", "pptx", "gif", "bmp", "tiff", "csv", "json", "xml", "html", "zip", "rar", "tar",
    "gz", "wav", "flac", "ogg", "webm", "mkv", "heic", "svg", "psd", "ai", "eps", "tif", "tga",
]  # fmt: skip

Id = Annotated[str, Field(min_length=1, max_length=64)]


def _object(value: Any, name: str) -> dict[str, Any] | None:
    """A JSON object sent as text in a form field (or as an object in a JSON body)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if not isinstance(value, dict):
        raise PydanticCustomError("json_object", f"Invalid JSON format for {name}")
    if len(json.dumps(value)) > MAX_METADATA_BYTES:
        raise PydanticCustomError(
            "too_long", f"{name} must serialise to at most {MAX_METADATA_BYTES} bytes"
        )
    return value


def _credential(value: Any) -> Credential | None:
    """`{}` is no credential (a public file), as in the original."""
    return normalize_credential(_object(value, "credential") or {}) or None


CredentialField = Annotated[Credential | None, BeforeValidator(_credential)]
DetailField = Annotated[dict[str, Any] | None, BeforeValidator(partial(_object, name="detail"))]


class SeedChunk(BaseModel):
    upload_id: Id
    chunk_index: int = Field(ge=0)
    chunk_size: int = Field(gt=0)

    @field_validator("chunk_size")
    @classmethod
    def _at_most_the_maximum(cls, value: int, info: ValidationInfo) -> int:
        limit = int((info.context or {})["max_chunk_size"])
        if value > limit:
            raise PydanticCustomError(
                "less_than_equal", "Input should be less than or equal to {le}", {"le": limit}
            )
        return value


class BrowserChunk(BaseModel):
    sessionId: Id  # the browser client's names
    chunkIndex: int = Field(ge=0)


class BrowserInit(BaseModel):
    fileName: str = Field(min_length=1, max_length=1024)
    totalChunks: int = Field(ge=1)
    chunkSize: int | None = Field(None, gt=0)  # not in document 000: 1 MiB


class SeedComplete(BaseModel):
    upload_id: Id
    total_chunks: int = Field(ge=1)
    total_size: int = Field(ge=0)
    file_extension: FileExtension
    content_type: str = Field(min_length=1, max_length=255)
    credential: CredentialField = None
    detail: DetailField = None


class BrowserComplete(BaseModel):
    sessionId: Id


class Retry(BaseModel):
    file_id: Id
    credential: CredentialField = None


@dataclass(frozen=True)
class ChunkSpec:
    """A chunk request in either dialect; only the original clients declare its size."""

    upload_id: str
    index: int
    declared_size: int | None


def _chunk(fields: Mapping[str, Any], limit: int) -> tuple[ChunkSpec | None, list[Any]]:
    try:
        if "sessionId" in fields:
            browser = parse(BrowserChunk, fields)
            return ChunkSpec(browser.sessionId, browser.chunkIndex, None), []
        seed = parse(SeedChunk, fields, max_chunk_size=limit)
        return ChunkSpec(seed.upload_id, seed.chunk_index, seed.chunk_size), []
    except RequestValidationError as exc:
        return None, list(exc.errors())


def chunk_spec(fields: Mapping[str, Any], limit: int, *, with_file: bool) -> ChunkSpec:
    """The chunk's fields, or a 422 naming every problem, a missing file part included."""
    spec, problems = _chunk(fields, limit)
    if not with_file:
        name = "chunk" if "sessionId" in fields else "file"
        problems.append({"loc": ("body", name), "msg": "Field required", "type": "missing"})
    if spec is None or problems:
        raise RequestValidationError(problems)
    return spec


def ready_chunk(fields: Mapping[str, Any], limit: int) -> ChunkSpec | None:
    """The chunk's fields if they already arrived complete (so its bytes can stream)."""
    return _chunk(fields, limit)[0]
