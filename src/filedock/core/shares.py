"""Share links: a URL `/s/<token>` that downloads one file without a key, for a while.

The token is the credential, so it is 32 random bytes, shown once, and only its SHA-256
is stored (as for API keys): a leaked database does not leak working links. A link ends
when it expires, is revoked or has served `max_downloads` bodies; it then answers 410
`share_gone`, while a token that never existed answers 404 `share_not_found`, so a holder
can tell "ask for a new link" from "wrong link" without learning anything about others.

Creating a link hands the file's bytes to whoever holds it, so it needs the same right as
reading them: the tenant's `write` scope to create, and for a private file its credential
or tenant admin (exactly who may see its metadata).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from filedock.core.access import Credential
from filedock.core.files import FileService
from filedock.core.models import FileRecord
from filedock.core.principal import READ, WRITE, Principal
from filedock.errors import Code, FiledockError
from filedock.units import parse_duration

MAX_TTL = timedelta(days=365)


def lifetime(value: int | str) -> timedelta:
    """How long a link lives: seconds (`3600`, `"3600"`) or a number with a unit (`"90s"`,
    `"30m"`, `"12h"`, `"1d"`, `"2w"`), from 1 second to MAX_TTL; anything else is a 422."""
    try:
        seconds = parse_duration(value)
    except ValueError:
        raise FiledockError(
            Code.INVALID_REQUEST,
            f"{value!r} is not a duration: give seconds or a number with s, m, h, d or w.",
        ) from None
    if not isinstance(seconds, int | float) or not 1 <= seconds <= MAX_TTL.total_seconds():
        raise FiledockError(
            Code.INVALID_REQUEST, f"expires_in must be between 1 second and {MAX_TTL.days} days."
        )
    return timedelta(seconds=seconds)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Share:
    id: str
    tenant: str
    file_id: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    max_downloads: int | None
    downloads: int
    revoked_at: datetime | None

    def state(self, now: datetime) -> str:
        """`active`, or why the link no longer works: `revoked`, `expired`, `used_up`."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        if self.max_downloads is not None and self.downloads >= self.max_downloads:
            return "used_up"
        return "active"


class ShareLedger(Protocol):
    async def insert(self, share: Share, token_hash: str) -> None: ...
    async def by_hash(self, token_hash: str) -> Share | None: ...
    async def get(self, share_id: str) -> Share | None: ...
    async def for_file(self, tenant: str, file_id: str) -> list[Share]: ...
    async def revoke(self, share_id: str, now: datetime) -> bool: ...
    async def count_download(self, share_id: str, now: datetime) -> bool: ...


_ENDED = {
    "revoked": "was revoked",
    "expired": "expired",
    "used_up": "is used up",
    "deleted": "names a deleted file",
}


def _gone(state: str) -> FiledockError:
    reason = _ENDED[state]
    return FiledockError(Code.SHARE_GONE, f"This share link {reason}.", reason=state)


class ShareService:
    def __init__(self, ledger: ShareLedger, files: FileService) -> None:
        self.ledger = ledger
        self.files = files

    async def create(
        self,
        who: Principal,
        file_id: str,
        *,
        expires_in: int | str,
        max_downloads: int | None = None,
        credential: Credential | None = None,
    ) -> tuple[Share, str]:
        """The link's record and its token, which is never stored nor shown again."""
        who.require(WRITE)
        record = await self.files.get(who, file_id, credential)
        ttl = lifetime(expires_in)
        if max_downloads is not None and max_downloads < 1:
            raise FiledockError(Code.INVALID_REQUEST, "max_downloads must be at least 1.")
        now = datetime.now(UTC)
        share = Share(
            id=uuid.uuid4().hex,
            tenant=who.tenant,
            file_id=record.id,
            created_by=who.user,
            created_at=now,
            expires_at=now + ttl,
            max_downloads=max_downloads,
            downloads=0,
            revoked_at=None,
        )
        token = secrets.token_urlsafe(32)
        await self.ledger.insert(share, hash_token(token))
        return share, token

    async def listed(
        self, who: Principal, file_id: str, credential: Credential | None = None
    ) -> list[Share]:
        """The file's links, for whoever may see the file's metadata."""
        who.require(READ)
        record = await self.files.get(who, file_id, credential)
        return await self.ledger.for_file(who.tenant, record.id)

    async def revoke(
        self, who: Principal, share_id: str, credential: Credential | None = None
    ) -> None:
        """Revoke a link of the tenant: its creator, or whoever may see its file.

        Another tenant's link answers like a missing one; revoking twice is harmless.
        """
        who.require(WRITE)
        share = await self.ledger.get(share_id)
        if share is None or share.tenant != who.tenant:
            raise FiledockError(Code.SHARE_NOT_FOUND, f"No share link has the id {share_id!r}.")
        if share.created_by != who.user:
            await self.files.get(who, share.file_id, credential)
        await self.ledger.revoke(share.id, datetime.now(UTC))

    async def open(self, token: str) -> tuple[Share, FileRecord]:
        """The live link `token` names and its file; 404 unknown, 410 ended."""
        share = await self.ledger.by_hash(hash_token(token))
        if share is None:
            raise FiledockError(Code.SHARE_NOT_FOUND, "No share link has this token.")
        state = share.state(datetime.now(UTC))
        if state != "active":
            raise _gone(state)
        try:
            record = await self.files.signed(share.file_id)  # the token is the signature
        except FiledockError:
            raise _gone("deleted") from None
        return share, record

    async def count_download(self, share: Share) -> None:
        """Count one download, unless the link ended meanwhile (then 410).

        One conditional UPDATE decides, so concurrent downloads of a link with
        `max_downloads` never serve more bodies than allowed, on any database.
        """
        now = datetime.now(UTC)
        if not await self.ledger.count_download(share.id, now):
            current = await self.ledger.get(share.id)
            state = "deleted" if current is None else current.state(now)
            raise _gone("used_up" if state == "active" else state)
