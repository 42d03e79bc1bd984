"""HTTP byte ranges and conditional requests (RFC 9110), shared by every download route."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import quote

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


def _unsatisfiable(header: str, size: int) -> FiledockError:
    return FiledockError(
        Code.RANGE_NOT_SATISFIABLE,
        f"The range {header!r} is outside the file's {size} bytes.",
        size=size,
    )


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


def none_match(if_none_match: str | None, record: FileRecord) -> bool:
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag_of(record) in tags


def content_disposition(name: str, disposition: str = "attachment") -> str:
    """RFC 6266: an ASCII fallback plus the exact UTF-8 name in filename* (RFC 5987)."""
    fallback = name.encode("ascii", "replace").decode().replace("?", "_")
    fallback = fallback.replace("\\", "_").replace('"', "_")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
