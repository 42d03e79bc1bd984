"""HTTP byte ranges and conditional requests (RFC 9110), shared by every download route.

The download headers arrive as one dependency (`DownloadHeadersDep`), so every front-end
that serves a file (native, signed links, tus GET) honours the same preconditions in the
order RFC 9110 section 13.2.2 gives: If-Match, else If-Unmodified-Since (412 when false);
If-None-Match, else If-Modified-Since (304 when false); then If-Range and Range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Header

from filedock.core.models import FileRecord
from filedock.errors import Code, FiledockError

_SPEC = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")
_BEYOND_ANY_FILE = 10**19  # what a position of more digits stands for (int() would refuse)


def _position(digits: str) -> int:
    return int(digits) if len(digits) < 19 else _BEYOND_ANY_FILE


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # exclusive

    @property
    def length(self) -> int:
        return self.end - self.start


def etag_of(record: FileRecord) -> str:
    return f'"{record.sha256}"'


def last_modified(record: FileRecord) -> str:
    return format_datetime(record.created_at, usegmt=True)


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range to serve, or None for the whole file.

    Other units and multi-range requests are ignored (RFC 9110 lets a server send the
    whole representation); a malformed or unsatisfiable byte range is a 416.
    """
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    match = _SPEC.match(spec)
    if not match or match.group(1) == match.group(2) == "":
        raise FiledockError(Code.RANGE_NOT_SATISFIABLE, f"Malformed range {header!r}.", size=size)
    first, last = match.groups()
    if first == "":
        suffix = _position(last)
        if suffix == 0 or size == 0:
            raise _unsatisfiable(header, size)
        return ByteRange(max(0, size - suffix), size)
    start = _position(first)
    end = size if last == "" else min(_position(last) + 1, size)
    if last != "" and _position(last) < start:
        raise FiledockError(Code.RANGE_NOT_SATISFIABLE, f"Malformed range {header!r}.", size=size)
    if start >= size:
        raise _unsatisfiable(header, size)
    return ByteRange(start, end)


_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d{1,18})-(\d{1,18})/(\d{1,18}|\*)\s*$")


def parse_content_range(header: str | None) -> tuple[int, int, int | None] | None:
    """A chunk's `Content-Range: bytes FIRST-LAST/TOTAL` (document 001) as (start, end
    exclusive, total or None for `*`); the core checks it against the chunk's place."""
    if header is None:
        return None
    match = _CONTENT_RANGE.match(header)
    if not match or int(match.group(2)) < int(match.group(1)):
        raise FiledockError(
            Code.INVALID_HEADER,
            f"Content-Range: expected 'bytes FIRST-LAST/TOTAL', not {header[:80]!r}.",
            header="Content-Range",
        )
    first, last, total = match.groups()
    return int(first), int(last) + 1, None if total == "*" else int(total)


def _unsatisfiable(header: str, size: int) -> FiledockError:
    return FiledockError(
        Code.RANGE_NOT_SATISFIABLE,
        f"The range {header!r} is outside the file's {size} bytes.",
        size=size,
    )


@dataclass(frozen=True)
class DownloadHeaders:
    range: str | None = None
    if_range: str | None = None
    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: str | None = None
    if_unmodified_since: str | None = None


def download_headers(
    range_header: Annotated[str | None, Header(alias="Range")] = None,
    if_range: Annotated[str | None, Header()] = None,
    if_match: Annotated[str | None, Header()] = None,
    if_none_match: Annotated[str | None, Header()] = None,
    if_modified_since: Annotated[str | None, Header()] = None,
    if_unmodified_since: Annotated[str | None, Header()] = None,
) -> DownloadHeaders:
    return DownloadHeaders(
        range_header, if_range, if_match, if_none_match, if_modified_since, if_unmodified_since
    )


DownloadHeadersDep = Annotated[DownloadHeaders, Depends(download_headers)]


def not_modified(headers: DownloadHeaders, record: FileRecord) -> bool:
    """Evaluate the preconditions: raise 412 when one fails, True for a 304."""
    modified = record.created_at.replace(microsecond=0)
    if headers.if_match is not None:
        if not _matches(headers.if_match, record, weak=False):
            raise _failed("If-Match", "the file's ETag is " + etag_of(record))
    elif (since := _date(headers.if_unmodified_since)) is not None and modified > since:
        raise _failed("If-Unmodified-Since", "the file changed at " + last_modified(record))
    if headers.if_none_match is not None:
        return _matches(headers.if_none_match, record, weak=True)
    since = _date(headers.if_modified_since)
    return since is not None and modified <= since


def _matches(header: str, record: FileRecord, *, weak: bool) -> bool:
    """`*` or a listed ETag; If-None-Match compares weakly (W/ ignored), If-Match strongly."""
    tags = {t.strip() for t in header.split(",")}
    if weak:
        tags = {t.removeprefix("W/") for t in tags}
    return "*" in tags or etag_of(record) in tags


def _date(value: str | None) -> datetime | None:
    """An HTTP date; an invalid one is ignored, as RFC 9110 says."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def _failed(header: str, why: str) -> FiledockError:
    return FiledockError(Code.PRECONDITION_FAILED, f"{header} does not hold: {why}.", header=header)


def if_range_holds(if_range: str | None, record: FileRecord) -> bool:
    """A Range applies only if If-Range (when sent) names this exact representation."""
    if not if_range:
        return True
    if if_range.startswith('"'):
        return if_range == etag_of(record)
    try:
        return parsedate_to_datetime(if_range) >= record.created_at.replace(microsecond=0)
    except (TypeError, ValueError):
        return False


def content_disposition(name: str, disposition: str = "attachment") -> str:
    """RFC 6266: an ASCII fallback plus the exact UTF-8 name in filename* (RFC 5987)."""
    fallback = name.encode("ascii", "replace").decode().replace("?", "_")
    fallback = fallback.replace("\\", "_").replace('"', "_")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
