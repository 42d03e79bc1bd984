"""API keys in SQL: inserted once, looked up by their hash on every request, revoked."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from filedock.core.keys import ApiKey
from filedock.db.tables import api_keys, utc


def _key(row: RowMapping) -> ApiKey:
    data = dict(row)
    data.pop("key_hash")
    for name in ("created_at", "expires_at", "revoked_at"):
        data[name] = None if data[name] is None else utc(data[name])
    return ApiKey(**data)


class KeyStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def insert(self, key: ApiKey, key_hash: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(insert(api_keys).values(**vars(key), key_hash=key_hash))

    async def by_hash(self, key_hash: str) -> ApiKey | None:
        async with self.engine.connect() as conn:
            row = (
                (await conn.execute(select(api_keys).where(api_keys.c.key_hash == key_hash)))
                .mappings()
                .first()
            )
        return None if row is None else _key(row)

    async def get(self, key_id: str) -> ApiKey | None:
        async with self.engine.connect() as conn:
            row = (
                (await conn.execute(select(api_keys).where(api_keys.c.id == key_id)))
                .mappings()
                .first()
            )
        return None if row is None else _key(row)

    async def listed(self, tenant: str | None) -> list[ApiKey]:
        query = select(api_keys).order_by(api_keys.c.created_at)
        if tenant is not None:
            query = query.where(api_keys.c.tenant == tenant)
        async with self.engine.connect() as conn:
            return [_key(r) for r in (await conn.execute(query)).mappings()]

    async def revoke(self, key_id: str) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
        return bool(result.rowcount)

    async def any_usable(self, now: datetime) -> bool:
        """Whether a key that could still sign in exists (ends `auto`'s open mode)."""
        query = (
            select(api_keys.c.id)
            .where(
                api_keys.c.revoked_at.is_(None),
                (api_keys.c.expires_at.is_(None)) | (api_keys.c.expires_at > now),
            )
            .limit(1)
        )
        async with self.engine.connect() as conn:
            return (await conn.execute(query)).first() is not None
