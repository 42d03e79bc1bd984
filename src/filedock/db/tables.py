"""The SQL schema. Every row of tenant data carries its tenant and its owner (the user).

Upload state lives here, never in the storage backend: the `parts` table is the ledger of
byte ranges that were durably written, so a crash can only lose a part that is not yet
recorded, and a recorded part is always complete.
"""

from __future__ import annotations

from datetime import UTC, datetime

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
    UniqueConstraint,
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
TENANT = String(64)
# A path is up to 1024 bytes: too long for a MySQL index beside the tenant, so uniqueness
# is kept on its SHA-256 (`path_key`), and the path itself is only compared by prefix.
PATH = String(1024)
PATH_KEY = String(64)
# MySQL's DATETIME drops microseconds unless asked; "newest first" needs them.
Timestamp = DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything in filedock is aware UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


uploads = Table(
    "uploads",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant", TENANT, nullable=False, index=True),
    Column("owner", String(128), nullable=True, index=True),
    Column("protocol", String(16), nullable=False),
    Column("path", PATH, nullable=True),
    Column("path_key", PATH_KEY, nullable=True, index=True),
    Column("if_exists", String(16), nullable=True),
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
    Column("tenant", TENANT, nullable=False),
    Column("owner", String(128), nullable=True, index=True),
    Column("name", String(255), nullable=False),
    Column("path", PATH, nullable=True),
    Column("path_key", PATH_KEY, nullable=True),
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
    Index("ix_files_tenant_created", "tenant", "created_at"),
    Index("ix_files_tenant_size", "tenant", "size"),  # quota checks sum sizes from the index
    UniqueConstraint("tenant", "path_key", name="uq_files_tenant_path"),
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
    Column("tenant", TENANT, nullable=False),
    Column("owner", String(128), nullable=True),
    Column("kind", String(32), nullable=False),
    Column("subject_id", ID, nullable=False, index=True),
    Column("state", String(16), nullable=False, index=True),
    Column("attempts", Integer, nullable=False),
    Column("error", Text, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
)

# Credentials: only a SHA-256 of each key is kept (keys are 32 random bytes, so a plain
# hash cannot be brute-forced), looked up by that hash on every request.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant", TENANT, nullable=False, index=True),
    Column("user", String(128), nullable=False),
    Column("scopes", String(64), nullable=False),
    Column("name", String(128), nullable=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=True),
    Column("revoked_at", Timestamp, nullable=True),
)

# Per-tenant limits; a tenant without a row has none but the server's own.
tenants = Table(
    "tenants",
    metadata,
    Column("name", TENANT, primary_key=True),
    Column("max_bytes", BigInteger, nullable=True),
    Column("max_files", BigInteger, nullable=True),
    Column("max_file_size", BigInteger, nullable=True),
    Column("allowed_types", Text, nullable=True),
    Column("updated_at", Timestamp, nullable=False),
)

# Share links: the token is the credential, so only its SHA-256 is kept.
shares = Table(
    "shares",
    metadata,
    Column("id", ID, primary_key=True),
    Column("tenant", TENANT, nullable=False),
    Column("file_id", ID, ForeignKey("files.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_by", String(128), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    Column("max_downloads", Integer, nullable=True),
    Column("downloads", Integer, nullable=False),
    Column("revoked_at", Timestamp, nullable=True),
)
