"""How the CLI shows what the server answers: rich tables, sizes in kB/MB, UTC times.

Ids are never wrapped nor cut, so they can be copied from a narrow terminal into the
next command; `--json` on each command gives the raw answer to scripts instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from rich import box
from rich.filesize import decimal
from rich.table import Table


def when(value: str | None) -> str:
    """`2026-12-02 17:40` from an ISO timestamp (the server answers in UTC)."""
    if not value:
        return ""
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M")


def size(value: int | None) -> str:
    return "?" if value is None else decimal(value)


_NUMBERS = {"size", "received"}
_TIMES = {"updated", "expires"}


def _table(*columns: str, caption: str | None = None) -> Table:
    """The id first, whole; numbers right-aligned; long names folded, never cut."""
    table = Table(caption=caption, caption_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column(columns[0], no_wrap=True)
    for column in columns[1:]:
        numeric = column in _NUMBERS
        table.add_column(
            column,
            justify="right" if numeric else "left",
            overflow="fold",
            no_wrap=numeric or column in _TIMES,
            min_width=None if numeric or column in _TIMES else 8,
        )
    return table


def files_table(items: list[Any], total: int) -> Table:
    table = _table("id", "name", "size", "updated", caption=f"{len(items)} of {total} file(s)")
    for record in items:
        table.add_row(
            record["id"],
            record.get("path") or record["name"],
            size(record["size"]),
            when(record["updated_at"]),
        )
    return table


def uploads_table(items: list[Any]) -> Table:
    """One row per upload: how far it got (or its state, once no longer receiving)."""
    caption = f"{len(items)} unfinished upload(s)"
    table = _table("id", "name", "received", "expires", caption=caption)
    for upload in items:
        received = f"{size(upload['bytes_received'])}/{size(upload['size'])}"
        table.add_row(
            upload["id"],
            upload.get("path") or upload["filename"],
            received if upload["state"] == "receiving" else upload["state"],
            when(upload["expires_at"]),
        )
    return table


def _flattened(value: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, item in value.items():
        if isinstance(item, Mapping) and item:
            yield from _flattened(item, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", item


def _shown(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, int) and not isinstance(value, bool) and "bytes" in key.split(".")[-1]:
        return f"{value} ({decimal(value)})"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def record_table(record: Mapping[str, Any]) -> Table:
    """Any JSON object as `key  value` rows; nested objects as dotted keys."""
    table = Table(show_header=False)
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for key, value in _flattened(record):
        table.add_row(key, _shown(key, value))
    return table
