"""tenants, users, API keys, paths, quotas and share links

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 18:00:00.000000

Every row of tenant data gets its tenant; rows written before access control existed
belong to tenant `default`, and uploads or files without an owner to its user `local`
(the principal every anonymous request had then), so nothing anyone had disappears.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
TENANT = sa.String(length=64)


def _tenant_column(table: str) -> None:
    with op.batch_alter_table(table) as batch:
        batch.add_column(sa.Column("tenant", TENANT, nullable=False, server_default="default"))


def upgrade() -> None:
    for table in ("uploads", "files", "jobs"):
        _tenant_column(table)
    with op.batch_alter_table("uploads") as batch:
        batch.add_column(sa.Column("path", sa.String(length=1024), nullable=True))
        batch.add_column(sa.Column("path_key", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("if_exists", sa.String(length=16), nullable=True))
        batch.create_index("ix_uploads_tenant", ["tenant"])
        batch.create_index("ix_uploads_path_key", ["path_key"])
    with op.batch_alter_table("files") as batch:
        batch.add_column(sa.Column("path", sa.String(length=1024), nullable=True))
        batch.add_column(sa.Column("path_key", sa.String(length=64), nullable=True))
        batch.create_index("ix_files_tenant_created", ["tenant", "created_at"])
        batch.create_unique_constraint("uq_files_tenant_path", ["tenant", "path_key"])
    for table in ("uploads", "files"):
        op.execute(sa.text(f"UPDATE {table} SET owner = 'local' WHERE owner IS NULL"))
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant", TENANT, nullable=False),
        sa.Column("user", sa.String(length=128), nullable=False),
        sa.Column("scopes", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=True),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("expires_at", Timestamp, nullable=True),
        sa.Column("revoked_at", Timestamp, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_index("ix_api_keys_tenant", "api_keys", ["tenant"])
    op.create_table(
        "tenants",
        sa.Column("name", TENANT, nullable=False),
        sa.Column("max_bytes", sa.BigInteger(), nullable=True),
        sa.Column("max_files", sa.BigInteger(), nullable=True),
        sa.Column("max_file_size", sa.BigInteger(), nullable=True),
        sa.Column("allowed_types", sa.Text(), nullable=True),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_tenants")),
    )
    op.create_table(
        "shares",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant", TENANT, nullable=False),
        sa.Column("file_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("expires_at", Timestamp, nullable=False),
        sa.Column("max_downloads", sa.Integer(), nullable=True),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.Column("revoked_at", Timestamp, nullable=True),
        sa.ForeignKeyConstraint(
            ["file_id"], ["files.id"], name=op.f("fk_shares_file_id_files"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shares")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_shares_token_hash")),
    )
    op.create_index("ix_shares_file_id", "shares", ["file_id"])


def downgrade() -> None:
    op.drop_table("shares")
    op.drop_table("tenants")
    op.drop_table("api_keys")
    with op.batch_alter_table("files") as batch:
        batch.drop_constraint("uq_files_tenant_path", type_="unique")
        batch.drop_index("ix_files_tenant_created")
        batch.drop_column("path_key")
        batch.drop_column("path")
    with op.batch_alter_table("uploads") as batch:
        batch.drop_index("ix_uploads_path_key")
        batch.drop_index("ix_uploads_tenant")
        batch.drop_column("if_exists")
        batch.drop_column("path_key")
        batch.drop_column("path")
    for table in ("uploads", "files", "jobs"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("tenant")
