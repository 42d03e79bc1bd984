"""Picks a storage backend from FILEDOCK_STORAGE_URL; backends load lazily by scheme, so
a server on local disk never imports the S3 or SFTP client library (both are runtime
dependencies: every install serves every documented storage URL)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from filedock.settings import Settings, SettingsError
from filedock.storage.base import Storage

_LIBRARIES = {"s3": "aiobotocore", "sftp": "asyncssh"}
# What reinstalls the runtime dependencies from a checkout (`pip install filedock[...]`
# would fetch an unrelated package of that name from the registry).
REINSTALL_HINT = "from the filedock checkout run `make run`, or `pip install -c constraints.txt .`"


def open_storage(settings: Settings) -> Storage:
    """The configured backend and its capabilities, decided here once."""
    url = urlsplit(settings.storage_url)
    if url.scheme in ("", "file"):
        from filedock.storage.local import LocalBackend

        return LocalBackend(Path(unquote(url.netloc + url.path)), fsync=settings.fsync).bundle()
    if url.scheme == "s3":
        require_library(settings.storage_url)
        from filedock.storage.s3 import open_s3

        return open_s3(settings.storage_url, settings).bundle()
    if url.scheme == "sftp":
        require_library(settings.storage_url)
        from filedock.storage.sftp import open_sftp

        return open_sftp(settings.storage_url, settings).bundle()
    raise ValueError(
        f"FILEDOCK_STORAGE_URL: unsupported storage scheme {url.scheme!r} "
        "(supported: file://, s3://, sftp://)"
    )


def require_library(storage_url: str) -> None:
    """Fail before start-up with the command that fixes a broken install."""
    scheme = urlsplit(storage_url).scheme
    module = _LIBRARIES.get(scheme)
    if module is None:
        return
    try:
        __import__(module)
    except ImportError:
        raise SettingsError(
            f"FILEDOCK_STORAGE_URL uses {scheme}://, which needs the {module} library, "
            f"missing from this install: {REINSTALL_HINT}"
        ) from None
