"""API keys: `fdk_` + 32 random bytes, shown once; only their SHA-256 is kept.

The prefix makes a leaked key recognisable to secret scanners and to people. A key's
entropy is what protects it, so a fast unsalted hash is enough and lets a request find
its key with one indexed look-up.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from filedock.core.principal import Principal, check_scopes, parse_scopes
from filedock.errors import Code, FiledockError

PREFIX = "fdk_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass
class ApiKey:
    id: str
    tenant: str
    user: str
    scopes: str  # canonical, comma-separated
    name: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def principal(self) -> Principal:
        return Principal(self.tenant, self.user, parse_scopes(self.scopes))


class KeyLedger(Protocol):
    async def insert(self, key: ApiKey, key_hash: str) -> None: ...
    async def by_hash(self, key_hash: str) -> ApiKey | None: ...
    async def get(self, key_id: str) -> ApiKey | None: ...
    async def listed(self, tenant: str | None) -> list[ApiKey]: ...
    async def revoke(self, key_id: str) -> bool: ...
    async def any_usable(self, now: datetime) -> bool: ...


class KeyService:
    """Creating, listing and revoking keys; `tenant=None` is the operator (CLI), any tenant.

    A key that signed in is remembered for `remember` seconds, so a stream of chunk PUTs
    costs one look-up per key per period, not one per request. The price is that a key
    revoked on another process (the CLI, another replica) is refused within that period;
    one revoked through this process is forgotten at once. Unknown keys are never
    remembered, so a new key works on its first request.
    """

    def __init__(self, ledger: KeyLedger, remember: float = 2.0) -> None:
        self.ledger = ledger
        self.remember = remember
        self._known: dict[str, tuple[float, ApiKey]] = {}

    async def create(
        self,
        *,
        tenant: str,
        user: str,
        scopes: str,
        name: str | None = None,
        expires_in: timedelta | None = None,
    ) -> tuple[ApiKey, str]:
        """The key's record and its secret, which is never stored nor shown again."""
        if not tenant or not user:
            raise FiledockError(Code.INVALID_REQUEST, "A key needs a tenant and a user.")
        try:
            canonical = check_scopes(scopes)
        except ValueError as exc:
            raise FiledockError(Code.INVALID_REQUEST, str(exc)) from exc
        now = datetime.now(UTC)
        key = ApiKey(
            id=uuid.uuid4().hex,
            tenant=tenant,
            user=user,
            scopes=canonical,
            name=name,
            created_at=now,
            expires_at=now + expires_in if expires_in else None,
            revoked_at=None,
        )
        secret = PREFIX + secrets.token_urlsafe(32)
        await self.ledger.insert(key, hash_key(secret))
        return key, secret

    async def authenticate(self, secret: str) -> Principal | None:
        digest = hash_key(secret)
        known = self._known.get(digest)
        if known is not None and known[0] > time.monotonic():
            key: ApiKey | None = known[1]
        else:
            key = await self.ledger.by_hash(digest)
            if key is not None:
                if len(self._known) > 10_000:  # bounded: forget everything rather than grow
                    self._known.clear()
                self._known[digest] = (time.monotonic() + self.remember, key)
        if key is None or not key.usable(datetime.now(UTC)):
            return None
        return key.principal()

    async def listed(self, tenant: str | None) -> list[ApiKey]:
        return await self.ledger.listed(tenant)

    async def revoke(self, key_id: str, tenant: str | None) -> None:
        """Revoke a key of `tenant` (any tenant's for the operator); 404 for another's."""
        key = await self.ledger.get(key_id)
        if key is None or (tenant is not None and key.tenant != tenant):
            raise FiledockError(Code.KEY_NOT_FOUND, f"No API key has the id {key_id!r}.")
        await self.ledger.revoke(key_id)
        self._known = {h: k for h, k in self._known.items() if k[1].id != key_id}

    async def any_usable(self) -> bool:
        return await self.ledger.any_usable(datetime.now(UTC))
