"""One Settings object, read from FILEDOCK_* environment variables or a .env file.

Nothing reads the environment after start-up: the CLI builds Settings and hands it to
create_app(), so tests can build an app per settings object.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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
    # Signs expiring download links. Unset: generated once and kept in data_dir/secret_key;
    # replicas that do not share data_dir must all be given the same one.
    secret_key: SecretStr | None = None
    signed_url_ttl_seconds: int = Field(7 * 24 * 3600, gt=0)  # the seed API's 7 days
    download_redirect: bool = False
    redirect_ttl_seconds: int = Field(900, gt=0)

    default_chunk_size: int = Field(8 * MiB, gt=0)
    max_chunk_size: int = Field(64 * MiB, gt=0)
    max_file_size: int = Field(100 * GiB, gt=0)
    upload_ttl_seconds: int = Field(24 * 3600, gt=0)
    cleanup_interval_seconds: int = Field(600, gt=0)
    complete_wait_seconds: float = Field(30.0, ge=0)
    fsync: bool = True

    # s3://BUCKET/PREFIX storage; query parameters endpoint=, region=, addressing_style=
    # override these. Credentials come from the standard AWS variables and chain.
    s3_endpoint_url: str = ""  # empty: AWS itself; MinIO/Ceph/moto: http://host:port
    s3_region: str = ""
    s3_addressing_style: Literal["auto", "path", "virtual"] = "auto"
    s3_create_bucket: bool = True  # create a missing bucket at start-up when allowed
    # sftp://USER[:PASSWORD]@HOST:PORT/ROOT storage
    sftp_key_file: Path | None = None
    sftp_password: SecretStr | None = None
    sftp_known_hosts: Path | None = None  # unset: ~/.ssh/known_hosts
    sftp_accept_unknown_hosts: bool = False  # trust a host absent from known_hosts
    sftp_pool_size: int = Field(4, gt=0)  # SSH connections kept open to the host

    # Outgrowing one box: each is unset by default, which keeps the embedded choice.
    broker_url: str = ""  # amqp:// or redis://: jobs run on Celery workers
    redis_url: str = ""  # redis://: locks, periodic claims and events shared by replicas
    redis_namespace: str = "filedock"  # key and channel prefix: deployments sharing a Redis
    lock_ttl_seconds: float = Field(30.0, gt=1)  # how long a dead holder's lock outlives it
    broker_queue: str = "filedock"  # deployments sharing a broker each need their own
    broker_visibility_timeout_seconds: int = Field(300, gt=0)  # Redis broker: redelivery

    # tus 1.0 (api/tus): where uploads live, which browser origins may use them (CORS;
    # a comma-separated list, "*" for any), and the largest upload (unset: max_file_size).
    tus_base_path: str = Field("/files/", pattern=r"^/([A-Za-z0-9._~-]+/)*$")
    tus_cors_origins: Annotated[list[str], NoDecode] = ["*"]
    tus_max_size: int | None = Field(None, gt=0)

    log_level: str = "INFO"
    log_json: bool = False

    @field_validator("tus_cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

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
