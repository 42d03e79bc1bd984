"""One Settings object, read from FILEDOCK_* environment variables or a .env file.

Nothing reads the environment after start-up: the CLI builds Settings (with `load`) and
hands it to create_app(), so tests can build an app per settings object. Sizes read as
`64M`, `64MiB`, `1G` or bytes and durations as `30s`, `15m`, `24h` or seconds
(filedock.units); an invalid value is reported by `load` as one line naming the variable.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from filedock.units import GiB, MiB, parse_duration, parse_size, redact

Size = Annotated[int, BeforeValidator(parse_size)]
Seconds = Annotated[int, BeforeValidator(parse_duration)]
FloatSeconds = Annotated[float, BeforeValidator(parse_duration)]

STORAGE_SCHEMES = ("file", "s3", "sftp")
DATABASES = ("sqlite", "mysql", "mariadb", "postgresql", "postgres")
BROKERS = ("amqp", "amqps", "pyamqp", "redis", "rediss")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# FILEDOCK_* variables read by something else than Settings: the client commands, tests.
OTHER_VARIABLES = ("FILEDOCK_SERVER", "FILEDOCK_CLIENT_STATE")
OTHER_PREFIXES = ("FILEDOCK_TEST_",)


class Settings(BaseSettings):
    """Every knob of filedock; defaults give the embedded one-box setup."""

    model_config = SettingsConfigDict(
        env_prefix="FILEDOCK_", env_file=".env", extra="ignore", env_nested_delimiter="__"
    )

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    data_dir: Path = Path("data")
    database_url: str = ""
    storage_url: str = ""
    public_url: str = ""
    # Signs expiring download links. Unset: generated once and kept in data_dir/secret_key;
    # replicas that do not share data_dir must all be given the same one.
    secret_key: SecretStr | None = None
    signed_url_ttl_seconds: Seconds = Field(7 * 24 * 3600, gt=0)  # the seed API's 7 days
    download_redirect: bool = False
    redirect_ttl_seconds: Seconds = Field(900, gt=0)

    default_chunk_size: Size = Field(8 * MiB, gt=0)
    max_chunk_size: Size = Field(64 * MiB, gt=0)
    max_file_size: Size = Field(100 * GiB, gt=0)
    upload_ttl_seconds: Seconds = Field(24 * 3600, gt=0)
    cleanup_interval_seconds: Seconds = Field(600, gt=0)
    complete_wait_seconds: FloatSeconds = Field(30.0, ge=0)
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
    lock_ttl_seconds: FloatSeconds = Field(30.0, gt=1)  # how long a dead holder's lock outlives it
    broker_queue: str = "filedock"  # deployments sharing a broker each need their own
    broker_visibility_timeout_seconds: Seconds = Field(300, gt=0)  # Redis broker: redelivery

    # tus 1.0 (api/tus): where uploads live, which browser origins may use them (CORS;
    # a comma-separated list, "*" for any), and the largest upload (unset: max_file_size).
    tus_base_path: str = Field("/files/", pattern=r"^/([A-Za-z0-9._~-]+/)*$")
    tus_cors_origins: Annotated[list[str], NoDecode] = ["*"]
    tus_max_size: Size | None = Field(None, gt=0)

    # SIGTERM/SIGINT: how long requests in flight may finish before they are answered 503
    shutdown_timeout_seconds: FloatSeconds = Field(10.0, ge=0)

    # Who may do what (core/authn.py): auto | required | none; API keys live in the database,
    # JWTs from an identity provider are verified with one of secret / public key / JWKS.
    auth: Literal["auto", "required", "none"] = "auto"
    jwt_secret: SecretStr | None = None  # HS256
    jwt_public_key_file: Path | None = None  # RS256 / ES256, PEM
    jwt_jwks_url: str = ""  # RS256 / ES256, keys fetched and cached
    jwt_issuer: str = ""
    jwt_audience: str = ""
    jwt_tenant_claim: str = "tenant"
    metrics_token: SecretStr | None = None  # set: /metrics needs Authorization: Bearer <it>

    log_level: str = "INFO"
    log_json: bool = False

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}")
        return value.upper()

    @field_validator("storage_url")
    @classmethod
    def _known_storage(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in STORAGE_SCHEMES:
            raise ValueError("expected file:///PATH, s3://BUCKET/PREFIX or sftp://USER@HOST/ROOT")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        expected = "expected sqlite:///PATH, mysql://USER:PASSWORD@HOST/DB or postgresql://..."
        if not value:
            return value
        try:
            backend = make_url(value).get_backend_name()
        except ArgumentError:
            raise ValueError(expected) from None
        if backend not in DATABASES:
            raise ValueError(expected)
        return value

    @field_validator("broker_url", "redis_url")
    @classmethod
    def _known_broker(cls, value: str, info: ValidationInfo) -> str:
        broker = info.field_name == "broker_url"
        schemes = BROKERS if broker else ("redis", "rediss", "unix")
        if value and urlsplit(value).scheme not in schemes:
            raise ValueError(
                "expected amqp://USER:PASSWORD@HOST/VHOST or redis://HOST:PORT/DB"
                if broker
                else "expected redis://HOST:PORT/DB or rediss://..."
            )
        return value

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
        folder = self.sqlite_folder()
        if folder is not None and folder != self.data_dir and not folder.is_dir():
            raise ValueError(
                f"FILEDOCK_DATABASE_URL={redact(self.database_url)}: "
                f"expected an SQLite file in an existing folder, {folder} does not exist"
            )
        if not self.storage_url:
            self.storage_url = f"file://{self.data_dir / 'storage'}"
        if not self.public_url:
            self.public_url = f"http://{self.host}:{self.port}"
        self.public_url = self.public_url.rstrip("/")
        return self

    def sqlite_folder(self) -> Path | None:
        """The folder of the SQLite database file, if the database is one."""
        url = make_url(self.database_url)
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return Path(url.database).expanduser().resolve().parent

    def data_dir_uses(self) -> list[str]:
        """What keeps its files in data_dir: only then may it be created, or is it needed."""
        uses = []
        if self.sqlite_folder() == self.data_dir:
            uses.append("the SQLite database")
        if self.storage_url == f"file://{self.data_dir / 'storage'}":
            uses.append("the storage folder")
        if self.secret_key is None:
            uses.append("the generated secret key")
        return uses


class SettingsError(Exception):
    """Invalid settings, as lines of `FILEDOCK_NAME=value: expected ...`."""


SECRET_FIELDS = {"secret_key", "sftp_password"}


def load(**overrides: Any) -> Settings:
    """Settings from the environment (and CLI overrides), or a SettingsError that names
    each wrong variable, its value and what it should be: no traceback for a typo."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError("\n".join(_describe(error) for error in exc.errors())) from None


def _describe(error: Mapping[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if not error["loc"]:  # a check across fields; its message names the variable
        return message
    field = str(error["loc"][0])
    value = "***" if field in SECRET_FIELDS else redact(str(error.get("input", "")))
    return f"FILEDOCK_{field.upper()}={value}: {message.replace('Input should be', 'expected')}"


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """A warning for each FILEDOCK_* variable no setting reads, with the nearest name."""
    known = [f"FILEDOCK_{name.upper()}" for name in Settings.model_fields]
    warnings = []
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith("FILEDOCK_") or upper in known or upper in OTHER_VARIABLES:
            continue
        if upper.startswith(OTHER_PREFIXES):
            continue
        nearest = difflib.get_close_matches(upper, [*known, *OTHER_VARIABLES], n=1)
        hint = f"; did you mean {nearest[0]}?" if nearest else " and is ignored"
        warnings.append(f"{name} is not a filedock setting{hint}")
    return warnings
