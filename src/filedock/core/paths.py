"""Paths in a tenant's namespace (document 002's target paths): one spelling per file.

A path names where a file lives for people (`/videos/2026/holiday.mp4`); it is unique per
tenant. Normalising first means two spellings of one place (`videos//a`, `/videos/./a`,
composed or decomposed accents) can never hold two files.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import TYPE_CHECKING

from filedock.errors import Code, FiledockError

if TYPE_CHECKING:
    from filedock.core.models import FileRecord

MAX_PATH_BYTES = 1024
IF_EXISTS = ("fail", "overwrite", "rename")


class PathTaken(Exception):
    """The ledger's answer when a path is already held by another file of the tenant."""


def normalize_path(raw: str) -> str:
    """`/a/b.txt` form: leading slash, NFC, no empty segment; `.`, `..` and control
    characters are refused rather than guessed at."""
    text = unicodedata.normalize("NFC", raw.strip())
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise _invalid(raw, "it holds control characters")
    segments = [s for s in text.split("/") if s]  # `a//b` and `a/` mean `/a/b` and `/a`
    if not segments or any(s in (".", "..") for s in segments):
        raise _invalid(raw, "it needs a name and no '.' or '..' segment")
    path = "/" + "/".join(segments)
    if len(path.encode()) > MAX_PATH_BYTES:
        raise _invalid(raw, f"it is longer than {MAX_PATH_BYTES} bytes")
    return path


def normalize_prefix(raw: str) -> str:
    """A folder prefix for listings: `/`, or a normalised path ending in `/`."""
    if raw.strip("/") == "":
        return "/"
    return normalize_path(raw).rstrip("/") + "/"


def path_key(path: str | None) -> str | None:
    """What uniqueness is checked on (paths are too long for a MySQL unique index)."""
    return None if path is None else hashlib.sha256(path.encode()).hexdigest()


def renamed(path: str, attempt: int) -> str:
    """`/a/name (2).ext` for `if_exists=rename`: the `attempt`-th free-name candidate."""
    folder, _, name = path.rpartition("/")
    stem, dot, ext = name.rpartition(".")
    if not stem:  # no extension, or a dot-file like `.env`
        stem, dot, ext = name, "", ""
    return f"{folder}/{stem} ({attempt}){dot}{ext}"


def basename(path: str) -> str:
    return path.rpartition("/")[2]


def path_exists(path: str, existing: FileRecord | None) -> FiledockError:
    """409 `path_exists`, describing the file there so the client can ask its user."""
    described = None
    if existing is not None:
        described = {
            "id": existing.id,
            "size": existing.size,
            "sha256": existing.sha256,
            "updated_at": existing.updated_at.isoformat(),
        }
    return FiledockError(
        Code.PATH_EXISTS,
        f"A file already exists at {path!r}; send if_exists=overwrite or rename.",
        path=path,
        existing=described,
    )


def _invalid(raw: str, why: str) -> FiledockError:
    return FiledockError(Code.PATH_INVALID, f"The path {raw[:200]!r} is not valid: {why}.")
