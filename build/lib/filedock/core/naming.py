"""File names as users give them, made safe to store and show.

Storage keys never come from names (they are ids), so a name cannot escape the data
folder; still, a stored name must not carry paths, NUL or control characters.
"""

from __future__ import annotations

import unicodedata

MAX_NAME = 255


def safe_filename(name: str, fallback: str = "file") -> str:
    """Keep the last path component, drop control characters, cap the length."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if name in ("", ".", ".."):
        return fallback
    if len(name.encode()) > MAX_NAME:
        _stem, dot, ext = name.rpartition(".")
        keep = ext if dot and len(ext) <= 16 else ""
        name = name.encode()[: MAX_NAME - len(keep) - 1].decode(errors="ignore")
        name = f"{name}.{keep}" if keep else name
    return name
