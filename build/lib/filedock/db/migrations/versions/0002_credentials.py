"""credentials of private files, and uploads found by file id

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 09:00:00.000000

The seed-compatible API makes a file private with a credential; only a salted hash of it
is stored (core/access.py). It is set on the upload at completion and handed on to the
file by assembly, because the file row only exists once the merge has run. The seed API
addresses files by id before they exist, hence the index on uploads.file_id.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credential_hash", sa.String(length=128), nullable=True))
        batch_op.create_index(batch_op.f("ix_uploads_file_id"), ["file_id"], unique=False)
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credential_hash", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.drop_column("credential_hash")
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_uploads_file_id"))
        batch_op.drop_column("credential_hash")
