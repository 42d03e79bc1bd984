"""The error table: every domain error has a stable code, an HTTP status and a message.

Each wire format (native JSON, later the seed envelope and tus) renders a FiledockError in
one place; anything that is not a FiledockError is a bug and becomes a logged 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Code(StrEnum):
    INVALID_REQUEST = "invalid_request"
    INVALID_RANGE = "invalid_range"
    ROUTE_NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    REQUEST_TOO_LARGE = "request_too_large"
    HEADERS_TOO_LARGE = "headers_too_large"
    UPLOAD_NOT_FOUND = "upload_not_found"
    FILE_NOT_FOUND = "file_not_found"
    ACCESS_DENIED = "access_denied"
    UNAUTHENTICATED = "unauthenticated"
    INSUFFICIENT_SCOPE = "insufficient_scope"
    KEY_NOT_FOUND = "key_not_found"
    SHARE_NOT_FOUND = "share_not_found"
    SHARE_GONE = "share_gone"
    PATH_INVALID = "path_invalid"
    PATH_EXISTS = "path_exists"
    PATH_BUSY = "path_busy"
    QUOTA_EXCEEDED = "quota_exceeded"
    TYPE_NOT_ALLOWED = "type_not_allowed"
    SIGNATURE_INVALID = "signature_invalid"
    JOB_NOT_FOUND = "job_not_found"
    UPLOAD_EXPIRED = "upload_expired"
    UPLOAD_NOT_RECEIVING = "upload_not_receiving"
    UPLOAD_INCOMPLETE = "upload_incomplete"
    UPLOAD_BUSY = "upload_busy"
    JOB_ALREADY_SUCCEEDED = "job_already_succeeded"
    JOB_RUNNING = "job_running"
    OFFSET_MISMATCH = "offset_mismatch"
    CHUNK_INDEX_OUT_OF_RANGE = "chunk_index_out_of_range"
    CHUNK_LENGTH_MISMATCH = "chunk_length_mismatch"
    CHUNK_TOO_LARGE = "chunk_too_large"
    FILE_TOO_LARGE = "file_too_large"
    SIZE_MISMATCH = "size_mismatch"
    CHECKSUM_MISMATCH = "checksum_mismatch"
    BAD_DIGEST_HEADER = "bad_digest_header"
    RANGE_NOT_SATISFIABLE = "range_not_satisfiable"
    PRECONDITION_FAILED = "precondition_failed"
    CONTENT_RANGE_MISMATCH = "content_range_mismatch"
    STORAGE_FULL = "storage_full"
    STAGED_DATA_LOST = "staged_data_lost"
    ASSEMBLY_FAILED = "assembly_failed"
    STORAGE_UNAVAILABLE = "storage_unavailable"
    DATABASE_UNAVAILABLE = "database_unavailable"
    REDIS_UNAVAILABLE = "redis_unavailable"
    SHUTTING_DOWN = "shutting_down"
    CLIENT_DISCONNECTED = "client_disconnected"
    INVALID_HEADER = "invalid_header"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    TUS_VERSION_UNSUPPORTED = "tus_version_unsupported"
    UPLOAD_IS_FINAL = "upload_is_final"
    NOT_CONCATENABLE = "not_concatenable"
    INTERNAL = "internal_error"


@dataclass(frozen=True)
class ErrorSpec:
    status: int
    message: str


ERRORS: dict[Code, ErrorSpec] = {
    Code.INVALID_REQUEST: ErrorSpec(422, "The request is malformed."),
    Code.INVALID_RANGE: ErrorSpec(400, "The byte range is malformed."),
    Code.ROUTE_NOT_FOUND: ErrorSpec(404, "No such route."),
    Code.METHOD_NOT_ALLOWED: ErrorSpec(405, "The route does not accept this method."),
    Code.REQUEST_TOO_LARGE: ErrorSpec(413, "The request is too large."),
    Code.HEADERS_TOO_LARGE: ErrorSpec(431, "The request headers are too large or too many."),
    Code.UPLOAD_NOT_FOUND: ErrorSpec(404, "No upload has this id."),
    Code.FILE_NOT_FOUND: ErrorSpec(404, "No file has this id."),
    Code.ACCESS_DENIED: ErrorSpec(403, "The credential does not grant access to this file."),
    Code.UNAUTHENTICATED: ErrorSpec(
        401, "A valid credential is needed: send Authorization: Bearer <key or token>."
    ),
    Code.INSUFFICIENT_SCOPE: ErrorSpec(403, "The credential lacks the scope this needs."),
    Code.KEY_NOT_FOUND: ErrorSpec(404, "No API key has this id."),
    Code.SHARE_NOT_FOUND: ErrorSpec(404, "No share link has this token or id."),
    Code.SHARE_GONE: ErrorSpec(410, "The share link expired, was revoked or is used up."),
    Code.PATH_INVALID: ErrorSpec(422, "The path is not a valid file path."),
    Code.PATH_EXISTS: ErrorSpec(409, "A file already exists at this path."),
    Code.PATH_BUSY: ErrorSpec(409, "Another user is uploading to this path."),
    Code.QUOTA_EXCEEDED: ErrorSpec(413, "The tenant's quota does not allow this."),
    Code.TYPE_NOT_ALLOWED: ErrorSpec(415, "The tenant does not accept this content type."),
    Code.SIGNATURE_INVALID: ErrorSpec(403, "The download link is not valid or has expired."),
    Code.JOB_NOT_FOUND: ErrorSpec(404, "No job has this id."),
    Code.UPLOAD_EXPIRED: ErrorSpec(410, "The upload expired and its bytes were freed."),
    Code.UPLOAD_NOT_RECEIVING: ErrorSpec(409, "The upload no longer accepts data."),
    Code.UPLOAD_INCOMPLETE: ErrorSpec(409, "Some chunks of the upload are missing."),
    Code.UPLOAD_BUSY: ErrorSpec(423, "Another request holds this upload."),
    Code.JOB_ALREADY_SUCCEEDED: ErrorSpec(
        409, "The job already succeeded; there is nothing to retry."
    ),
    Code.JOB_RUNNING: ErrorSpec(409, "The job is still running; wait for it to finish."),
    Code.OFFSET_MISMATCH: ErrorSpec(409, "The data was sent at the wrong offset."),
    Code.CHUNK_INDEX_OUT_OF_RANGE: ErrorSpec(416, "The chunk index is outside the upload."),
    Code.CHUNK_LENGTH_MISMATCH: ErrorSpec(400, "The chunk does not have the expected length."),
    Code.CHUNK_TOO_LARGE: ErrorSpec(413, "The chunk is larger than the upload's chunk size."),
    Code.FILE_TOO_LARGE: ErrorSpec(413, "The file is larger than this server accepts."),
    Code.SIZE_MISMATCH: ErrorSpec(409, "The declared size does not match the received bytes."),
    Code.CHECKSUM_MISMATCH: ErrorSpec(422, "The data does not match its checksum."),
    Code.BAD_DIGEST_HEADER: ErrorSpec(400, "A digest header is malformed."),
    Code.RANGE_NOT_SATISFIABLE: ErrorSpec(416, "The requested range is outside the file."),
    Code.PRECONDITION_FAILED: ErrorSpec(412, "A precondition (If-Match...) does not hold."),
    Code.CONTENT_RANGE_MISMATCH: ErrorSpec(
        416, "The chunk's Content-Range does not match its place in the upload."
    ),
    Code.STAGED_DATA_LOST: ErrorSpec(409, "The staged bytes of the upload are gone; resend it."),
    Code.ASSEMBLY_FAILED: ErrorSpec(502, "The storage failed while assembling; complete again."),
    Code.STORAGE_FULL: ErrorSpec(507, "The storage has no space left; retry later."),
    Code.STORAGE_UNAVAILABLE: ErrorSpec(503, "The storage cannot be reached."),
    Code.DATABASE_UNAVAILABLE: ErrorSpec(503, "The database cannot be reached; retry later."),
    Code.REDIS_UNAVAILABLE: ErrorSpec(503, "Redis (locks, events) cannot be reached; retry later."),
    Code.SHUTTING_DOWN: ErrorSpec(
        503, "The server is shutting down; retry after Retry-After (or on another replica)."
    ),
    Code.CLIENT_DISCONNECTED: ErrorSpec(400, "The client went away before the body ended."),
    Code.INVALID_HEADER: ErrorSpec(400, "A request header is missing or malformed."),
    Code.UNSUPPORTED_MEDIA_TYPE: ErrorSpec(415, "The request body has the wrong Content-Type."),
    Code.TUS_VERSION_UNSUPPORTED: ErrorSpec(412, "This server speaks tus 1.0.0 only."),
    Code.UPLOAD_IS_FINAL: ErrorSpec(403, "A concatenated (final) upload takes no more data."),
    Code.NOT_CONCATENABLE: ErrorSpec(400, "Only finished partial uploads can be concatenated."),
    Code.INTERNAL: ErrorSpec(500, "Internal error."),
}


class FiledockError(Exception):
    """A domain error with a stable code; `details` carries machine-readable context."""

    def __init__(self, code: Code, message: str | None = None, **details: Any) -> None:
        self.code = code
        self.spec = ERRORS[code]
        self.message = message or self.spec.message
        self.details = details
        super().__init__(f"{code}: {self.message}")

    @property
    def status(self) -> int:
        return self.spec.status
