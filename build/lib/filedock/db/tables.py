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
from sqlalchemy.dialects import mysql

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(32)
# MySQL's DATETIME drops microseconds unless asked; "newest first" needs them.
Timestamp = DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

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
    Column("file_id", ID, nullable=True, index=True),
    Column("credential_hash", String(128), nullable=True),
    Column("error_code", String(32), nullable=True),
    Column("error", Text, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False, index=True),
)

parts = Table(
    "parts",
    metadata,
    Column("upload_id", ID, ForeignKey("uploads.id", ondelete="CASCADE"), primary_key=True),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("offset", BigInteger, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("etag", String(128), nullable=True),
    Column("created_at", Timestamp, nullable=False),
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
    Column("credential_hash", String(128), nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Index("ix_files_name_created", "name", "created_at"),
)

# What the tus front-end must echo as the client sent it (HEAD: Upload-Metadata,
# Upload-Concat); only uploads created over tus with either header have a row.
tus_uploads = Table(
    "tus_uploads",
    metadata,
    Column("upload_id", ID, ForeignKey("uploads.id", ondelete="CASCADE"), primary_key=True),
    Column("concat", Text, nullable=True),
    Column("metadata_header", Text, nullable=True),
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
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
)
