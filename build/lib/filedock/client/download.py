"""Download a file: stream it to a partial file, resume that with Range + If-Range, check
the sha256 the server computed, then rename into place.

The partial file is named after the content's hash (`NAME.<sha256 prefix>.part`), so
bytes of one version are never continued with bytes of another; If-Range covers a
change between asking for the file's record and fetching its bytes.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filedock.client.http import Api, ClientError, Retry
from filedock.client.progress import SILENT, Reporter
from filedock.client.upload import BLOCK
from filedock.core.naming import safe_filename


@dataclass(frozen=True)
class DownloadResult:
    path: Path
    file: dict[str, Any]
    fetched: int  # bytes that came over the network in this run


class _Partial:
    """The bytes so far and their running sha256, so a retry re-reads nothing."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle = path.open("a+b")
        self.handle.seek(0)
        self.hasher = hashlib.sha256()
        self.size = 0
        self.fetched = 0
        while block := self.handle.read(BLOCK):
            self.hasher.update(block)
            self.size += len(block)

    def write(self, block: bytes) -> None:
        self.handle.write(block)
        self.hasher.update(block)
        self.size += len(block)
        self.fetched += len(block)

    def restart(self) -> None:
        self.handle.truncate(0)
        self.hasher = hashlib.sha256()
        self.size = 0


def target_path(dest: Path | None, name: str) -> Path:
    """Where the file goes: `dest`, inside `dest` if it is a folder, else the cwd."""
    if dest is None:
        return Path.cwd() / safe_filename(name)
    return dest / safe_filename(name) if dest.is_dir() else dest


def download_file(
    api: Api,
    file_id: str,
    dest: Path | None = None,
    *,
    retry: Retry | None = None,
    reporter: Reporter = SILENT,
) -> DownloadResult:
    retry = retry or Retry()
    record = retry.call(lambda: api.json("GET", f"/api/v1/files/{file_id}"))
    target = target_path(dest, record["name"])
    partial = _Partial(target.with_name(f"{target.name}.{record['sha256'][:16]}.part"))
    try:
        reporter.start("downloading", record["size"], min(partial.size, record["size"]))
        retry.call(lambda: _fetch(api, record, partial, reporter))
        partial.handle.flush()
        os.fsync(partial.handle.fileno())
    finally:
        partial.handle.close()
    if partial.hasher.hexdigest() != record["sha256"]:
        partial.path.unlink()
        raise ClientError(
            "checksum_mismatch",
            f"The downloaded bytes do not have the sha256 {record['sha256']}; run it again.",
        )
    os.replace(partial.path, target)
    return DownloadResult(target, record, partial.fetched)


def _fetch(api: Api, record: dict[str, Any], partial: _Partial, reporter: Reporter) -> None:
    """Fetch what the partial file lacks; a 200 instead of a 206 means start over."""
    if partial.size > record["size"]:
        reporter.advance(-record["size"])
        partial.restart()
    if partial.size == record["size"]:
        return
    headers = {}
    if partial.size:
        headers = {"Range": f"bytes={partial.size}-", "If-Range": f'"{record["sha256"]}"'}
    with api.stream("GET", record["urls"]["content"], headers=headers) as response:
        if response.status_code != 206:
            reporter.advance(-partial.size)
            partial.restart()
        for block in response.iter_bytes():
            partial.write(block)
            reporter.advance(len(block))
