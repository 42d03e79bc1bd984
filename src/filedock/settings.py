"""One Settings object, read from FILEDOCK_* environment variables or a .env file.

Nothing reads the environment after start-up: the CLI builds Settings and hands it to
create_app(), so tests can build an app per settings object.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MiB = 1024 * 1024
GiB = 1024 * MiB


class Settings(BaseSettings):
    """Every knob of filedock; defaults give the embedded one-box setup."""

    model_config = SettingsConfigDict(
        env_prefix="FILEDOCK_", env_file=".env", extra="ignore", env_nested_delimiter="__"
    )

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("data")
    database_url: str = ""
    storage_url: str = ""
    public_url: str = ""

    default_chunk_size: int = Field(8 * MiB, gt=0)
    max_chunk_size: int = Field(64 * MiB, gt=0)
    max_file_size: int = Field(100 * GiB, gt=0)
    upload_ttl_seconds: int = Field(24 * 3600, gt=0)
    cleanup_interval_seconds: int = Field(600, gt=0)
    complete_wait_seconds: float = Field(30.0, ge=0)
    fsync: bool = True

    log_level: str = "INFO"
    log_json: bool = False

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        """Derive the embedded database and storage locations from data_dir."""
        self.data_dir = self.data_dir.expanduser().resolve()
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'filedock.db'}"
        if not self.storage_url:
            self.storage_url = f"file://{self.data_dir / 'storage'}"
        if not self.public_url:
            self.public_url = f"http://{self.host}:{self.port}"
        self.public_url = self.public_url.rstrip("/")
        return self
