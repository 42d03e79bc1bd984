"""an index that answers a tenant's file count and bytes by itself

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 19:00:00.000000

Quota checks sum a tenant's file sizes on every creation (and on every body of unknown
length); with (tenant, size) indexed, that sum reads the index alone, not each row.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_files_tenant_size", "files", ["tenant", "size"])


def downgrade() -> None:
    op.drop_index("ix_files_tenant_size", table_name="files")
