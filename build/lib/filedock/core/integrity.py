"""Hashes: per-chunk digest headers, metered bodies, and whole-file hashing on the fly.

The whole-file sha256 is computed while in-order data arrives (a "frontier" per upload,
kept in process memory); whatever the frontier did not cover (parallel or out-of-order
chunks, a restart) is hashed in one read pass after assembly. Either way no byte is
written twice.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from filedock.errors import Code, FiledockError

Hasher = Any  # hashlib objects have no public common type
ALGORITHMS: dict[str, Callable[[], Hasher]] = {
    "md5": hashlib.md5,
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
}
_RFC9530_NAMES = {"sha-256": "sha256", "md5": "md5", "sha": "sha1"}


def parse_digest_headers(
    content_md5: str | None, content_digest: str | None, repr_digest: str | None
) -> dict[str, bytes]:
    """Expected digests of a body from Content-MD5 and RFC 9530 Content-/Repr-Digest."""
    expected: dict[str, bytes] = {}
    if content_md5:
        expected["md5"] = _b64(content_md5.strip(), "Content-MD5", 16)
    for header, value in (("Content-Digest", content_digest), ("Repr-Digest", repr_digest)):
        if not value:
            continue
        for member in value.split(","):
            name, sep, encoded = member.strip().partition("=")
            if not sep or not (encoded.startswith(":") and encoded.endswith(":")):
                raise FiledockError(
                    Code.BAD_DIGEST_HEADER, f"{header} must look like sha-256=:BASE64:."
                )
            algorithm = _RFC9530_NAMES.get(name.strip().lower())
            if algorithm:
                size = ALGORITHMS[algorithm]().digest_size
                expected[algorithm] = _b64(encoded[1:-1], header, size)
    return expected


def _b64(value: str, header: str, size: int) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise FiledockError(Code.BAD_DIGEST_HEADER, f"{header} is not valid base64.") from exc
    if len(raw) != size:
        raise FiledockError(Code.BAD_DIGEST_HEADER, f"{header} has the wrong digest length.")
    return raw


async def metered(
    body: AsyncIterator[bytes], limit: int, hashers: list[Hasher], counter: list[int]
) -> AsyncIterator[bytes]:
    """Pass the body through, counting into counter[0], hashing, and refusing > limit."""
    async for piece in body:
        if not piece:
            continue
        counter[0] += len(piece)
        if counter[0] > limit:
            raise FiledockError(
                Code.CHUNK_TOO_LARGE, f"The body is larger than the {limit} bytes expected."
            )
        for hasher in hashers:
            hasher.update(piece)
        yield piece


@dataclass
class Frontier:
    """Hash state of the contiguous prefix [0, offset) of one upload."""

    offset: int = 0
    hashers: dict[str, Hasher] = field(default_factory=dict)


class FrontierTracker:
    """In-process running hashes per upload; losing them only costs a read pass.

    Only sound when this process sees every write of an upload and assembles it: with
    several replicas a chunk re-sent elsewhere would leave a stale prefix here, and with
    a job worker the entries would never be taken. `enabled=False` is for those setups.
    """

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._frontiers: dict[str, Frontier] = {}

    def fork(self, upload_id: str, offset: int, algorithms: list[str]) -> dict[str, Hasher]:
        """Hasher copies to feed while a part at `offset` streams, if it extends the prefix."""
        if not self.enabled:
            return {}
        frontier = self._frontiers.get(upload_id)
        if frontier is None and offset == 0:
            frontier = self._frontiers[upload_id] = Frontier(
                hashers={name: ALGORITHMS[name]() for name in algorithms}
            )
        if frontier is None or frontier.offset != offset:
            if frontier is not None and offset < frontier.offset:
                self.drop(upload_id)  # a rewrite below the prefix invalidates it
            return {}
        return {name: h.copy() for name, h in frontier.hashers.items()}

    def advance(self, upload_id: str, offset: int, size: int, forked: dict[str, Hasher]) -> None:
        frontier = self._frontiers.get(upload_id)
        if forked and frontier is not None and frontier.offset == offset:
            frontier.offset, frontier.hashers = offset + size, forked

    def take(self, upload_id: str) -> Frontier | None:
        return self._frontiers.pop(upload_id, None)

    def drop(self, upload_id: str) -> None:
        self._frontiers.pop(upload_id, None)
