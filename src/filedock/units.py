"""Sizes and durations as people write them, and URLs safe to print.

The README writes sizes as "64 MiB" and times as "24 h", so the settings and the CLI
flags read them that way: `64M`, `64MiB`, `64 MB`, `1G`, `1.5G` or plain bytes (units
are binary: K = 1024, whatever the spelling, as every filedock size is); `30s`, `15m`,
`24h`, `7d`, `2w` or plain seconds. Each parser raises ValueError saying what it expects,
which Settings turns into its one-line error.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
TiB = 1024 * GiB

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "K": KiB, "M": MiB, "G": GiB, "T": TiB}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$", re.IGNORECASE)
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

SIZE_EXPECTED = "expected a size such as 64M, 64MiB, 1G or a number of bytes"
DURATION_EXPECTED = "expected a duration such as 30s, 15m, 24h or a number of seconds"


def parse_size(value: object) -> object:
    """Bytes from `64M`-style text; numbers and None pass through for the field to check."""
    if not isinstance(value, str):
        return value
    match = _SIZE.match(value)
    if match is None:
        raise ValueError(SIZE_EXPECTED)
    number, unit = match.groups()
    size = float(number) * _SIZE_UNITS[unit.upper()]
    if size != int(size):
        raise ValueError(f"{SIZE_EXPECTED} (a whole number of bytes)")
    return int(size)


def parse_duration(value: object) -> object:
    """Seconds from `15m`-style text (whole seconds as an int, else a float)."""
    if not isinstance(value, str):
        return value
    match = _DURATION.match(value)
    if match is None:
        raise ValueError(DURATION_EXPECTED)
    number, unit = match.groups()
    seconds = float(number) * _DURATION_UNITS[(unit or "s").lower()]
    return int(seconds) if seconds == int(seconds) else seconds


def size_option(value: str) -> int:
    """A typer `parser=` for size flags (`--chunk-size 8M`)."""
    parsed = parse_size(value)
    if not isinstance(parsed, int) or parsed <= 0:
        raise ValueError(f"{SIZE_EXPECTED}, above 0")
    return parsed


def redact(url: str) -> str:
    """The URL with its password replaced by ***, for logs, banners and errors."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url
    if not password:
        return url
    netloc = parts.netloc.replace(f":{password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
