"""The SQL schema. Every table carries an owner from the start (authentication comes later).

Upload state lives here, never in the storage backend: the `parts` table is the ledger of
byte ranges that were durably written, so a crash can only lose a part that is not yet
recorded, and a recorded part is always complete.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(32)

uploads = Table(
    "uploads",
    metadata,
    Column("id", ID, primary_key=True),
    Column("owner", String(128), nullable=True, index=True),
    Column("protocol", String(16), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("metadata", JSON, nullable=False),
    Column("size", BigInteger, nullable=True),
    Column("chunk_size", BigInteger, nullable=False),
    Column("expected_sha256", String(64), nullable=True),
    Column("expected_md5", String(32), nullable=True),
    Column("storage_key", String(255), nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("file_id", ID, nullable=True),
    Column("error_code", String(32), nullable=True),
    Column("error", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)

parts = Table(
    "parts",
    metadata,
    Column("upload_id", ID, ForeignKey("uploads.id", ondelete="CASCADE"), primary_key=True),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("offset", BigInteger, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("etag", String(128), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

files = Table(
    "files",
    metadata,
    Column("id", ID, primary_key=True),
    Column("owner", String(128), nullable=True, index=True),
    Column("name", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("sha256", String(64), nullable=False, index=True),
    Column("metadata", JSON, nullable=False),
    Column("storage_key", String(255), nullable=False),
    Column("upload_id", ID, nullable=True, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_files_name_created", "name", "created_at"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", ID, primary_key=True),
    Column("owner", String(128), nullable=True),
    Column("kind", String(32), nullable=False),
    Column("subject_id", ID, nullable=False, index=True),
    Column("state", String(16), nullable=False, index=True),
    Column("attempts", Integer, nullable=False),
    Column("error", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
