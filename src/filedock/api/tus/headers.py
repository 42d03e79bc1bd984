"""tus 1.0.0 request headers, parsed strictly: anything malformed is a 400 before any work.

Each parser returns plain values for the core (sizes, raw digests, upload ids, a name and
a content type) and raises INVALID_HEADER / BAD_DIGEST_HEADER naming the header.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

from filedock.core.integrity import ALGORITHMS
from filedock.errors import Code, FiledockError

VERSION = "1.0.0"
OFFSET_OCTET_STREAM = "application/offset+octet-stream"
CHECKSUM_ALGORITHMS = tuple(sorted(ALGORITHMS))  # md5, sha1, sha256
_UINT = re.compile(r"^[0-9]{1,19}$")
_KEY = re.compile(r"^[^\s,]+$")
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE = re.compile(rf"^{_TOKEN}/{_TOKEN}(\s*;[\x20-\x7e]*)?$")


def invalid(header: str, problem: str) -> FiledockError:
    return FiledockError(Code.INVALID_HEADER, f"{header}: {problem}.", header=header)


def offset_stream(content_type: str | None) -> bool:
    """Whether a body is tus data (Content-Type application/offset+octet-stream)."""
    return (content_type or "").split(";")[0].strip().lower() == OFFSET_OCTET_STREAM


MAX_DIGITS = 18  # every 18-digit number fits the databases' 64-bit integers
MAX_METADATA_HEADER = 16 * 1024  # as the native API's metadata (api/schemas.py)


def uint(header: str, value: str | None) -> int | None:
    """A non-negative integer header (Upload-Offset, Upload-Length), None when absent."""
    if value is None:
        return None
    if not _UINT.match(value.strip()):
        raise invalid(header, f"{value[:40]!r} is not a non-negative integer")
    if len(value.strip()) > MAX_DIGITS:
        raise invalid(header, f"more than {MAX_DIGITS} digits is beyond any upload")
    return int(value)


def required_uint(header: str, value: str | None) -> int:
    number = uint(header, value)
    if number is None:
        raise invalid(header, "the header is required")
    return number


def length(upload_length: str | None, defer_length: str | None) -> int | None:
    """The upload's size from Upload-Length, or None with Upload-Defer-Length: 1."""
    if defer_length is not None:
        if defer_length.strip() != "1":
            raise invalid("Upload-Defer-Length", "the only value allowed is 1")
        if upload_length is not None:
            raise invalid("Upload-Length", "not allowed with Upload-Defer-Length")
        return None
    if upload_length is None:
        raise invalid("Upload-Length", "required (or Upload-Defer-Length: 1)")
    return required_uint("Upload-Length", upload_length)


@dataclass(frozen=True)
class Description:
    """What Upload-Metadata says about the file: filename and filetype, where it goes
    (`path`, `if_exists`: the same rules as the native API), the rest as is."""

    filename: str | None = None
    content_type: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    path: str | None = None
    if_exists: str = "fail"


def metadata(value: str | None) -> Description:
    """Upload-Metadata: `key base64,key base64,key` (a value may be empty)."""
    if value is None or not value.strip():
        return Description()
    if len(value) > MAX_METADATA_HEADER:
        raise invalid("Upload-Metadata", f"longer than {MAX_METADATA_HEADER} bytes")
    pairs: dict[str, Any] = {}
    for item in value.split(","):
        key, _, encoded = item.strip().partition(" ")
        if not _KEY.match(key):
            raise invalid("Upload-Metadata", f"{key!r} is not a valid key")
        if key in pairs:
            raise invalid("Upload-Metadata", f"the key {key!r} appears twice")
        pairs[key] = _value(encoded.strip())
    filename, filetype = pairs.pop("filename", None), pairs.pop("filetype", None)
    path, if_exists = pairs.pop("path", None), pairs.pop("if_exists", "fail")
    if not isinstance(filetype, str) or not _MEDIA_TYPE.match(filetype):
        filetype = None  # never let a value with control characters reach a header
    if path is not None and not isinstance(path, str):
        raise invalid("Upload-Metadata", "path must be UTF-8 text")
    return Description(
        filename=filename if isinstance(filename, str) and filename else None,
        content_type=filetype,
        metadata=pairs,
        path=path,
        if_exists=if_exists if isinstance(if_exists, str) else "",
    )


def _value(encoded: str) -> str | dict[str, str]:
    """UTF-8 text as a string; other bytes (tus allows any) kept as {"base64": ...}."""
    raw = _b64("Upload-Metadata", encoded)
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return {"base64": encoded}


def _b64(header: str, encoded: str) -> bytes:
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise invalid(header, f"{encoded[:40]!r} is not base64") from exc


def checksum(value: str | None) -> dict[str, bytes]:
    """Upload-Checksum: `algorithm base64-digest` → {algorithm: raw digest}."""
    if value is None:
        return {}
    name, _, encoded = value.strip().partition(" ")
    if name not in ALGORITHMS:
        raise FiledockError(
            Code.BAD_DIGEST_HEADER,
            f"Upload-Checksum: {name!r} is not supported; use one of "
            f"{', '.join(CHECKSUM_ALGORITHMS)}.",
        )
    digest = _b64("Upload-Checksum", encoded.strip())
    if len(digest) != ALGORITHMS[name]().digest_size:
        raise FiledockError(Code.BAD_DIGEST_HEADER, f"Upload-Checksum: not a {name} digest.")
    return {name: digest}


@dataclass(frozen=True)
class Concat:
    """Upload-Concat: `partial`, or `final;URL URL...` naming the pieces in order."""

    final: bool
    sources: tuple[str, ...] = ()


def concat(value: str | None, base_path: str) -> Concat | None:
    if value is None:
        return None
    kind, _, urls = value.strip().partition(";")
    if kind == "partial" and not urls:
        return Concat(final=False)
    if kind != "final":
        raise invalid("Upload-Concat", "must be 'partial' or 'final;<upload URLs>'")
    sources = tuple(_upload_id(url, base_path) for url in urls.split())
    if not sources:
        raise invalid("Upload-Concat", "a final upload names at least one partial upload")
    return Concat(final=True, sources=sources)


def _upload_id(url: str, base_path: str) -> str:
    """The upload id in an absolute or relative upload URL of this server."""
    path = urlsplit(url).path
    upload_id = path[len(base_path) :] if path.startswith(base_path) else ""
    if not upload_id or "/" in upload_id:
        raise invalid("Upload-Concat", f"{url!r} is not an upload URL of this server")
    return upload_id


def http_date(moment: datetime) -> str:
    """RFC 9110 IMF-fixdate, as Upload-Expires requires."""
    return format_datetime(moment, usegmt=True)
