"""Tenants in SQL: their limits (one row each, absent = none) and what they use."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import and_, case, func, select, union
from sqlalchemy.ext.asyncio import AsyncEngine

from filedock.core.models import UploadState
from filedock.core.quotas import Limits, Usage
from filedock.db.repo import upsert
from filedock.db.tables import api_keys, files, parts, tenants, uploads

UNFINISHED = [UploadState.RECEIVING, UploadState.ASSEMBLING, UploadState.FAILED]


class TenantStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def limits(self, tenant: str) -> Limits:
        async with self.engine.connect() as conn:
            row = (
                (await conn.execute(select(tenants).where(tenants.c.name == tenant)))
                .mappings()
                .first()
            )
        if row is None:
            return Limits()
        types = row["allowed_types"]
        return Limits(
            max_bytes=row["max_bytes"],
            max_files=row["max_files"],
            max_file_size=row["max_file_size"],
            allowed_types=tuple(types.split(",")) if types else None,
        )

    async def set_limits(self, tenant: str, limits: Limits) -> None:
        values = {
            "name": tenant,
            "max_bytes": limits.max_bytes,
            "max_files": limits.max_files,
            "max_file_size": limits.max_file_size,
            "allowed_types": ",".join(limits.allowed_types) if limits.allowed_types else None,
            "updated_at": datetime.now(UTC),
        }
        async with self.engine.begin() as conn:
            await conn.execute(upsert(conn.dialect.name, tenants, values, ["name"]))

    async def usage(self, tenant: str) -> Usage:
        """Files and their bytes; unfinished uploads and what they hold or reserved.

        Receiving uploads of declared size and assembling ones count their size; those
        of unknown length and failed ones count the parts still staged.
        """
        state = uploads.c.state
        reserved = and_(state != UploadState.FAILED.value, uploads.c.size.is_not(None))
        unfinished = and_(uploads.c.tenant == tenant, state.in_([s.value for s in UNFINISHED]))
        async with self.engine.connect() as conn:
            file_count, file_bytes = (
                await conn.execute(
                    select(func.count(), func.coalesce(func.sum(files.c.size), 0)).where(
                        files.c.tenant == tenant
                    )
                )
            ).one()
            upload_count, reserved_bytes = (
                await conn.execute(
                    select(
                        func.count(),
                        func.coalesce(func.sum(case((reserved, uploads.c.size), else_=0)), 0),
                    ).where(unfinished)
                )
            ).one()
            staged_bytes = (
                await conn.execute(
                    select(func.coalesce(func.sum(parts.c.size), 0))
                    .select_from(parts.join(uploads, parts.c.upload_id == uploads.c.id))
                    .where(unfinished, ~reserved)
                )
            ).scalar_one()
        return Usage(
            files=int(file_count),
            file_bytes=int(file_bytes),
            uploads=int(upload_count),
            staged_bytes=int(reserved_bytes) + int(staged_bytes),
        )

    async def names(self) -> list[str]:
        """Every tenant with limits, files, uploads or keys, sorted."""
        query = union(
            select(tenants.c.name),
            select(files.c.tenant),
            select(uploads.c.tenant),
            select(api_keys.c.tenant),
        )
        async with self.engine.connect() as conn:
            return sorted(str(r[0]) for r in await conn.execute(query))
