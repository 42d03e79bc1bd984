"""Picks a storage backend from FILEDOCK_STORAGE_URL; backends load lazily by scheme."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from filedock.settings import Settings
from filedock.storage.base import Backend


def open_storage(settings: Settings) -> Backend:
    url = urlsplit(settings.storage_url)
    if url.scheme in ("", "file"):
        from filedock.storage.local import LocalBackend

        return LocalBackend(Path(unquote(url.netloc + url.path)), fsync=settings.fsync)
    raise ValueError(
        f"FILEDOCK_STORAGE_URL: unsupported storage scheme {url.scheme!r} (supported: file://)"
    )
