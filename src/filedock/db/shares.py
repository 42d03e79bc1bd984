"""Share links in SQL: found by their token's hash, counted by one conditional UPDATE."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from filedock.core.shares import Share
from filedock.db.tables import shares, utc


def _share(row: RowMapping) -> Share:
    data = dict(row)
    data.pop("token_hash")
    for name in ("created_at", "expires_at", "revoked_at"):
        data[name] = None if data[name] is None else utc(data[name])
    return Share(**data)


class ShareStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def insert(self, share: Share, token_hash: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(insert(shares).values(**vars(share), token_hash=token_hash))

    async def _one(self, where: ColumnElement[bool]) -> Share | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(shares).where(where))).mappings().first()
        return None if row is None else _share(row)

    async def by_hash(self, token_hash: str) -> Share | None:
        return await self._one(shares.c.token_hash == token_hash)

    async def get(self, share_id: str) -> Share | None:
        return await self._one(shares.c.id == share_id)

    async def for_file(self, tenant: str, file_id: str) -> list[Share]:
        query = (
            select(shares)
            .where(shares.c.tenant == tenant, shares.c.file_id == file_id)
            .order_by(shares.c.created_at)
        )
        async with self.engine.connect() as conn:
            return [_share(r) for r in (await conn.execute(query)).mappings()]

    async def revoke(self, share_id: str, now: datetime) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(shares)
                .where(shares.c.id == share_id, shares.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        return bool(result.rowcount)

    async def count_download(self, share_id: str, now: datetime) -> bool:
        """+1 download if the link is still live: the WHERE clause is the rule, checked and
        applied in one statement, so racing downloads cannot pass `max_downloads`."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(shares)
                .where(
                    shares.c.id == share_id,
                    shares.c.revoked_at.is_(None),
                    shares.c.expires_at > now,
                    shares.c.max_downloads.is_(None)
                    | (shares.c.downloads < shares.c.max_downloads),
                )
                .values(downloads=shares.c.downloads + 1)
            )
        return bool(result.rowcount)
