"""Per-tenant quotas and content policy: the one place that says whether bytes may come in.

A tenant's counted bytes are its files' sizes plus what its unfinished uploads hold or
have reserved: an upload of declared size reserves all of it from creation (so uploads
that run for hours cannot together overshoot), one of unknown length counts what it
received, and a failed one what is still staged (a failed assembly keeps its parts; a refused one,
checksum or type, freed them). Unfinished uploads count as files too, since each is one
on its way.

Declared sizes are checked once, at creation (or when a deferred length is declared);
uploads of unknown length are bounded while their bytes arrive. A body that would cross
a limit is refused as a whole, before anything of it is recorded: the upload stays at
its previous offset, so once the limit is raised the client resends from there (tus HEAD,
or the native missing chunks) and finishes. Keeping "what fits" instead would answer an
error to a request whose bytes were half accepted, and leave native uploads with a short
chunk in the middle.

Checks read the usage, then act, without a lock: requests running at the same moment on
one tenant (creations, bodies of unknown length) can together overshoot by what they
carry. A lock per tenant on every chunk would cost more than that margin is worth.
"""

from __future__ import annotations

import fnmatch
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

import puremagic

from filedock import units
from filedock.core.models import Upload
from filedock.errors import Code, FiledockError

SNIFF_BYTES = 64 * 1024  # enough for every signature puremagic knows at a fixed offset
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}
NONE_WORDS = frozenset({"none", "unlimited", ""})


@dataclass(frozen=True)
class Limits:
    """A tenant's limits; None is "no limit" (a tenant without a row has none)."""

    max_bytes: int | None = None
    max_files: int | None = None
    max_file_size: int | None = None
    allowed_types: tuple[str, ...] | None = None  # glob patterns such as image/*

    @property
    def counts(self) -> bool:
        """Whether checking needs the tenant's usage (reading it costs three queries)."""
        return self.max_bytes is not None or self.max_files is not None

    def changed(self, clear: bool = False, **changes: Any) -> Limits:
        """These limits with `changes` applied over them (or over none, with `clear`)."""
        return replace(Limits() if clear else self, **changes)

    def as_json(self) -> dict[str, Any]:
        return {
            "max_bytes": self.max_bytes,
            "max_files": self.max_files,
            "max_file_size": self.max_file_size,
            "allowed_types": None if self.allowed_types is None else list(self.allowed_types),
        }


@dataclass(frozen=True)
class Usage:
    files: int  # finished files
    file_bytes: int
    uploads: int  # unfinished uploads (receiving, assembling, failed)
    staged_bytes: int  # what they hold or have reserved

    @property
    def bytes_used(self) -> int:
        return self.file_bytes + self.staged_bytes

    def report(self, tenant: str, limits: Limits) -> dict[str, Any]:
        """What `GET /api/v1/usage` and `filedock tenants usage --json` show."""
        return {
            "tenant": tenant,
            "bytes_used": self.bytes_used,
            "files": self.files,
            "file_bytes": self.file_bytes,
            "uploads": self.uploads,
            "staged_bytes": self.staged_bytes,
            "limits": limits.as_json(),
        }


@dataclass(frozen=True)
class Refusal:
    """Which limit a request would cross: what counts already, what it asks, the limit."""

    quota: str
    used: int
    requested: int
    limit: int

    @property
    def available(self) -> int:
        return max(0, self.limit - self.used)

    def error(self) -> FiledockError:
        return FiledockError(
            Code.QUOTA_EXCEEDED,
            f"The tenant's {self.quota} is {self.limit}; {self.used} counts already, so "
            f"{self.requested} more does not fit ({self.available} would).",
            quota=self.quota,
            used=self.used,
            requested=self.requested,
            limit=self.limit,
        )


# the arithmetic ------------------------------------------------------------------------
def admission(
    limits: Limits, usage: Usage | None, size: int | None, *, counted: int = 0, new: bool = True
) -> Refusal | None:
    """Whether an upload of `size` bytes (None: not known yet) fits the tenant's limits.

    `counted` is what `usage` already counts of this upload (a deferred length declared
    late replaces its received bytes); `new` says it will be one more file.
    """
    if size is not None and limits.max_file_size is not None and size > limits.max_file_size:
        return Refusal("max_file_size", counted, size, limits.max_file_size)
    if usage is None:
        return None
    if new and limits.max_files is not None and usage.files + usage.uploads >= limits.max_files:
        return Refusal("max_files", usage.files + usage.uploads, 1, limits.max_files)
    if size is not None and limits.max_bytes is not None:
        used = usage.bytes_used - counted
        if used + size > limits.max_bytes:
            return Refusal("max_bytes", used, size, limits.max_bytes)
    return None


def room(limits: Limits, usage: Usage | None, start: int) -> Refusal | None:
    """The tightest limit on more bytes for an upload of unknown length, from `start` on.

    Returned as the refusal a body longer than its `available` bytes gets (requested 0
    until known); None when nothing bounds it. `usage` is needed for `max_bytes` only.
    """
    bounds = []
    if limits.max_bytes is not None and usage is not None:
        bounds.append(Refusal("max_bytes", usage.bytes_used, 0, limits.max_bytes))
    if limits.max_file_size is not None:
        bounds.append(Refusal("max_file_size", start, 0, limits.max_file_size))
    return min(bounds, key=lambda b: b.available, default=None)


def media_type(content_type: str) -> str:
    """`Image/PNG; charset=x` → `image/png`: what patterns are matched against."""
    return content_type.split(";", 1)[0].strip().lower()


def type_allowed(content_type: str, patterns: tuple[str, ...] | None) -> bool:
    if patterns is None:
        return True
    kind = media_type(content_type)
    return any(fnmatch.fnmatchcase(kind, pattern.lower()) for pattern in patterns)


def parse_types(text: str) -> tuple[str, ...] | None:
    """`image/*, video/mp4` into patterns; `none` (or nothing) lifts the restriction."""
    patterns = tuple(dict.fromkeys(p.strip().lower() for p in text.split(",") if p.strip()))
    if not patterns or text.strip().lower() in NONE_WORDS:
        return None
    bad = [p for p in patterns if p.count("/") != 1 or p.startswith("/") or p.endswith("/")]
    if bad:
        raise ValueError(f"content types look like type/subtype or image/*; got {bad}")
    return patterns


def parse_size(text: str) -> int | None:
    """Bytes from `500G`, `500GiB`, `20M`, `1048576` (filedock.units: binary units);
    `none` lifts the limit (None)."""
    if text.strip().lower() in NONE_WORDS:
        return None
    size = units.parse_size(text)
    assert isinstance(size, int)  # text in, bytes out
    return size


def format_size(value: int | None) -> str:
    if value is None:
        return "-"
    for unit in ("P", "T", "G", "M", "K"):
        if value >= _UNITS[unit.lower()]:
            return f"{value / _UNITS[unit.lower()]:.1f} {unit}iB"
    return f"{value} B"


def sniff(head: bytes) -> tuple[str, ...]:
    """The media types the first bytes of a file may be: every best signature match.

    Formats share signatures (a zip, a .docx and a .jar all start alike), so one best
    guess would refuse a plain zip as a .docx: the file passes if any of them is allowed.
    """
    try:
        matches = puremagic.magic_string(head) if head else []
    except puremagic.PureError:
        return ()
    best = max((m.confidence for m in matches if m.mime_type), default=None)
    found = (media_type(m.mime_type) for m in matches if m.mime_type and m.confidence == best)
    return tuple(dict.fromkeys(found))


# the service ---------------------------------------------------------------------------
class TenantLedger(Protocol):
    async def limits(self, tenant: str) -> Limits: ...
    async def usage(self, tenant: str) -> Usage: ...


class QuotaService:
    """The checks UploadService and the assembly call; reads limits and usage from SQL."""

    def __init__(self, ledger: TenantLedger) -> None:
        self.ledger = ledger

    async def report(self, tenant: str) -> tuple[Usage, Limits]:
        return await self.ledger.usage(tenant), await self.ledger.limits(tenant)

    async def admit(
        self, tenant: str, size: int | None, content_type: str | None, takes_over: int = 0
    ) -> None:
        """At creation: 415 for a declared type outside the allowed ones, 413 over a quota.

        `takes_over` bytes are already counted: staged uploads this one is made of (tus
        concatenation), freed once it completes; they are its file slot too.
        """
        limits = await self.ledger.limits(tenant)
        if content_type is not None and not type_allowed(content_type, limits.allowed_types):
            raise _type_refused(content_type, limits)
        usage = await self.ledger.usage(tenant) if limits.counts else None
        refusal = admission(limits, usage, size, counted=takes_over, new=not takes_over)
        if refusal is not None:
            raise refusal.error()

    async def admit_size(self, upload: Upload, size: int) -> None:
        """A deferred length declared late: it now reserves `size` instead of what arrived."""
        limits = await self.ledger.limits(upload.tenant)
        usage = await self.ledger.usage(upload.tenant) if limits.counts else None
        refusal = admission(limits, usage, size, counted=upload.bytes_received, new=False)
        if refusal is not None:
            raise refusal.error()

    async def guard(
        self,
        upload: Upload,
        start: int,
        body: AsyncIterator[bytes],
        content_length: int | None,
    ) -> AsyncIterator[bytes]:
        """`body` bounded by the tenant's limits, for bytes of an upload of unknown length.

        A known Content-Length over the room is refused before anything is read; a body
        of unknown length is refused when it crosses it (and nothing of it is recorded).
        Uploads of declared size reserved their bytes at creation: they pass untouched.
        """
        if upload.size is not None:
            return body
        limits = await self.ledger.limits(upload.tenant)
        if limits.max_bytes is None and limits.max_file_size is None:
            return body
        usage = await self.ledger.usage(upload.tenant) if limits.max_bytes is not None else None
        bound = room(limits, usage, start)
        assert bound is not None
        if content_length is not None and content_length > bound.available:
            raise replace(bound, requested=content_length).error()
        return _bounded(body, bound)

    async def check_content(
        self, upload: Upload, head: Callable[[int], Awaitable[bytes]]
    ) -> FiledockError | None:
        """At completion: the type the file's first bytes show (else the declared one)
        must be allowed; the refusal is returned for the assembly to clean up and raise.

        `head(n)` reads the first n bytes; it is called only when the tenant restricts types.
        """
        limits = await self.ledger.limits(upload.tenant)
        if limits.allowed_types is None:
            return None
        declared = media_type(upload.content_type)
        found = sniff(await head(SNIFF_BYTES)) or (declared,)
        if any(type_allowed(kind, limits.allowed_types) for kind in found):
            return None
        return _type_refused(declared if declared in found else found[0], limits)


def _type_refused(content_type: str, limits: Limits) -> FiledockError:
    allowed = list(limits.allowed_types or ())
    return FiledockError(
        Code.TYPE_NOT_ALLOWED,
        f"The tenant accepts {', '.join(allowed)}; not {media_type(content_type)}.",
        content_type=media_type(content_type),
        allowed_types=allowed,
    )


async def _bounded(body: AsyncIterator[bytes], bound: Refusal) -> AsyncIterator[bytes]:
    seen = 0
    async for piece in body:
        seen += len(piece)
        if seen > bound.available:
            raise replace(bound, requested=seen).error()
        yield piece
