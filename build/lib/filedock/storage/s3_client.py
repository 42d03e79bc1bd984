"""Talking to an S3-compatible store: where (from the URL and settings), the client, and
what its errors mean in filedock's error table.

Client: aiobotocore, so a part upload or a ranged download is a coroutine on the
server's event loop, cancelled with its request, rather than a blocking boto3 call
holding one of a few threads for the whole transfer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from filedock.errors import Code, FiledockError
from filedock.settings import Settings

Client = Any  # aiobotocore clients are generated at run time and carry no types

_LOST = {"NoSuchUpload", "InvalidPart", "InvalidPartOrder"}
_BAD_DATA = {"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"}
_FULL = {"QuotaExceeded", "XMinioStorageFull", "StorageFull", "EntityTooLarge"}


@dataclass(frozen=True)
class S3Location:
    """Where objects go, from s3://BUCKET/PREFIX?endpoint=&region=&addressing_style=."""

    bucket: str
    prefix: str  # "" or ends with "/"
    endpoint_url: str | None
    region: str | None
    addressing_style: str
    create_bucket: bool

    @classmethod
    def parse(cls, url: str, settings: Settings) -> S3Location:
        parts = urlsplit(url)
        if not parts.netloc:
            raise ValueError(f"FILEDOCK_STORAGE_URL {url!r}: an s3:// URL needs a bucket name")
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        unknown = set(query) - {"endpoint", "region", "addressing_style"}
        if unknown:
            raise ValueError(f"FILEDOCK_STORAGE_URL: unknown s3 parameters {sorted(unknown)}")
        style = query.get("addressing_style", settings.s3_addressing_style)
        if style not in ("auto", "path", "virtual"):
            raise ValueError(f"addressing_style must be auto, path or virtual, not {style!r}")
        prefix = parts.path.strip("/")
        return cls(
            bucket=parts.netloc,
            prefix=f"{prefix}/" if prefix else "",
            endpoint_url=query.get("endpoint", settings.s3_endpoint_url) or None,
            region=query.get("region", settings.s3_region) or None,
            addressing_style=style,
            create_bucket=settings.s3_create_bucket,
        )

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix} at {self.endpoint_url or 'AWS'}"


@contextlib.contextmanager
def s3_errors(action: str, missing: Code = Code.STORAGE_UNAVAILABLE) -> Iterator[None]:
    """Translate client errors into the error table; `missing` is what a 404 means here."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = str(error.get("Code", "")), str(error.get("Message", exc))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code == "InvalidRange":
            raise FiledockError(Code.RANGE_NOT_SATISFIABLE, f"S3: {message}") from exc
        if code in ("NoSuchKey", "NotFound", "404") or (status == 404 and code not in _LOST):
            raise FiledockError(missing, f"S3 could not {action}: {code} {message}") from exc
        if code in _LOST:
            raise FiledockError(Code.STAGED_DATA_LOST, f"S3 could not {action}: {message}") from exc
        if code in _BAD_DATA:
            raise FiledockError(Code.CHECKSUM_MISMATCH, f"S3 refused the data: {message}") from exc
        if code in _FULL:
            raise FiledockError(Code.STORAGE_FULL, f"S3 refused the data: {message}") from exc
        raise FiledockError(
            Code.STORAGE_UNAVAILABLE, f"S3 could not {action}: {code} {message}"
        ) from exc
    except (TimeoutError, BotoCoreError, OSError) as exc:
        raise FiledockError(Code.STORAGE_UNAVAILABLE, f"S3 could not {action}: {exc}") from exc


def new_client(where: S3Location) -> contextlib.AbstractAsyncContextManager[Client]:
    """An aiobotocore S3 client (an async context manager); credentials from the AWS chain."""
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    config = AioConfig(
        s3={"addressing_style": where.addressing_style},
        retries={"max_attempts": 3, "mode": "standard"},
        # Content-MD5 is what every S3 implementation verifies; the SDK's default
        # CRC32 trailers are not understood by all of them.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        max_pool_connections=64,
        connect_timeout=10,
        read_timeout=120,
    )
    region = where.region or ("us-east-1" if where.endpoint_url else None)
    client: contextlib.AbstractAsyncContextManager[Client] = get_session().create_client(
        "s3", endpoint_url=where.endpoint_url, region_name=region, config=config
    )
    return client


def unavailable(where: str, exc: FiledockError) -> FiledockError:
    return FiledockError(Code.STORAGE_UNAVAILABLE, f"Storage {where} is unusable: {exc.message}")
