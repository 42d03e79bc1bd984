"""Picks a storage backend from FILEDOCK_STORAGE_URL; backends load lazily by scheme, so
the one-box install needs neither the S3 nor the SFTP client library."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from filedock.settings import Settings
from filedock.storage.base import Backend

_EXTRAS = {"s3": ("aiobotocore", "s3"), "sftp": ("asyncssh", "sftp")}


def open_storage(settings: Settings) -> Backend:
    url = urlsplit(settings.storage_url)
    if url.scheme in ("", "file"):
        from filedock.storage.local import LocalBackend

        return LocalBackend(Path(unquote(url.netloc + url.path)), fsync=settings.fsync)
    if url.scheme == "s3":
        _require(url.scheme)
        from filedock.storage.s3 import open_s3

        return open_s3(settings.storage_url, settings)
    if url.scheme == "sftp":
        _require(url.scheme)
        from filedock.storage.sftp import open_sftp

        return open_sftp(settings.storage_url, settings)
    raise ValueError(
        f"FILEDOCK_STORAGE_URL: unsupported storage scheme {url.scheme!r} "
        "(supported: file://, s3://, sftp://)"
    )


def _require(scheme: str) -> None:
    """Fail at start-up with the command that fixes a missing client library."""
    module, extra = _EXTRAS[scheme]
    try:
        __import__(module)
    except ImportError as exc:
        raise RuntimeError(
            f"FILEDOCK_STORAGE_URL uses {scheme}://, which needs the {module} library: "
            f"pip install 'filedock[{extra}]'"
        ) from exc
