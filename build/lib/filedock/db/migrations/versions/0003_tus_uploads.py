"""tus headers echoed as sent

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 12:00:00.000000

tus requires HEAD to answer with Upload-Metadata and Upload-Concat exactly as the client
sent them at creation; the core keeps the parsed name, type and metadata, this keeps the
wire form (and which uploads are partial or final).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tus_uploads",
        sa.Column("upload_id", sa.String(length=32), nullable=False),
        sa.Column("concat", sa.Text(), nullable=True),
        sa.Column("metadata_header", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["upload_id"],
            ["uploads.id"],
            name=op.f("fk_tus_uploads_upload_id_uploads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("upload_id", name=op.f("pk_tus_uploads")),
    )


def downgrade() -> None:
    op.drop_table("tus_uploads")
