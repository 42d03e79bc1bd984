"""Upload a local file: hash it, create or resume the upload, send the missing chunks in
parallel, complete.

Resuming asks nothing of the user: the resume state maps the file to its upload id and
the server says which chunks it holds, so a rerun sends only those it lacks. Each chunk
is streamed from disk twice (once to hash it for Content-Digest, once to send it; the
second read usually hits the page cache), so memory stays at one block per worker
whatever the chunk size.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filedock.client.http import Api, ClientError, Retry
from filedock.client.progress import SILENT, Reporter
from filedock.client.state import Entry, ResumeState

BLOCK = 1024 * 1024
_GONE = (404, 410)


@dataclass(frozen=True)
class UploadOptions:
    chunk_size: int | None = None  # requested; the server may clamp it
    parallel: int = 4
    content_type: str | None = None  # guessed from the file name when left out
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UploadResult:
    file: dict[str, Any]
    upload_id: str
    resumed: bool
    chunks_sent: int
    chunk_count: int

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "upload": {
                "id": self.upload_id,
                "resumed": self.resumed,
                "chunks_sent": self.chunks_sent,
                "chunk_count": self.chunk_count,
            },
        }


def read_range(path: Path, offset: int, length: int) -> Iterator[bytes]:
    """The bytes [offset, offset + length) of `path`, a block at a time."""
    with path.open("rb", buffering=0) as handle:
        handle.seek(offset)
        left = length
        while left:
            block = handle.read(min(BLOCK, left))
            if not block:
                raise ClientError("file_changed", f"{path} became shorter during the upload.")
            left -= len(block)
            yield block


def sha256_of(blocks: Iterable[bytes], on_block: Callable[[int], None] | None = None) -> bytes:
    hasher = hashlib.sha256()
    for block in blocks:
        hasher.update(block)
        if on_block:
            on_block(len(block))
    return hasher.digest()


class Uploader:
    def __init__(
        self,
        api: Api,
        state: ResumeState,
        *,
        retry: Retry | None = None,
        reporter: Reporter = SILENT,
    ) -> None:
        self.api = api
        self.state = state
        self.retry = retry or Retry()
        self.reporter = reporter

    def upload(self, path: Path, options: UploadOptions | None = None) -> UploadResult:
        options = options or UploadOptions()
        path = path.resolve()
        stat = path.stat()
        server = self.api.base_url
        entry = self.state.get(server, path, stat.st_size, stat.st_mtime_ns)
        upload = self._resumable(entry.upload_id) if entry else None
        resumed = upload is not None
        if upload is None:
            if not entry:  # find out the server is unreachable before hashing, not after
                self.retry.call(lambda: self.api.request("GET", "/readyz"))
            sha256 = entry.sha256 if entry else self._hash(path, stat.st_size)
            upload = self._create(path, stat.st_size, sha256, options)
            self.state.put(
                server, path, Entry(upload["id"], stat.st_size, stat.st_mtime_ns, sha256)
            )
        missing: list[int] = upload["missing_chunks"] if upload["state"] == "receiving" else []
        self._send(path, upload, missing, options.parallel)
        record = complete(self.api, upload, self.retry)
        self.state.remove(server, path)
        return UploadResult(record, upload["id"], resumed, len(missing), upload["chunk_count"])

    # starting ------------------------------------------------------------------------
    def _resumable(self, upload_id: str) -> dict[str, Any] | None:
        """The upload to continue, or None when starting again is the only way on.

        A failed upload that still holds every chunk can be completed again; one that
        lost chunks (its whole-file checksum did not match) no longer accepts data.
        """
        try:
            upload = self.retry.call(lambda: self.api.json("GET", f"/api/v1/uploads/{upload_id}"))
        except ClientError as exc:
            if exc.status in _GONE:
                return None
            raise
        if upload["state"] == "failed" and upload["missing_chunks"]:
            return None
        return upload

    def _hash(self, path: Path, size: int) -> str:
        self.reporter.start("hashing", size)
        return sha256_of(read_range(path, 0, size), self.reporter.advance).hex()

    def _create(self, path: Path, size: int, sha256: str, options: UploadOptions) -> dict[str, Any]:
        """Retried like the rest: a lost answer costs an empty upload that expiry removes."""
        body = {
            "filename": path.name,
            "size": size,
            "sha256": sha256,
            "content_type": options.content_type or mimetypes.guess_type(path.name)[0],
            "metadata": options.metadata,
            "chunk_size": options.chunk_size,
        }
        return self.retry.call(lambda: self.api.json("POST", "/api/v1/uploads", json=body))

    # sending -------------------------------------------------------------------------
    def _send(self, path: Path, upload: dict[str, Any], missing: list[int], parallel: int) -> None:
        size, chunk_size = upload["size"], upload["chunk_size"]
        spans = [(i, i * chunk_size, min(chunk_size, size - i * chunk_size)) for i in missing]
        self.reporter.start("uploading", size, size - sum(length for _, _, length in spans))
        template: str = upload["urls"]["chunk"]

        def url(index: int) -> str:
            return template.replace("{index}", str(index))

        with ThreadPoolExecutor(parallel, thread_name_prefix="filedock-chunk") as pool:
            futures = [
                pool.submit(self._send_chunk, path, url(i), offset, length)
                for i, offset, length in spans
            ]
            try:
                for future in as_completed(futures):
                    future.result()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    def _send_chunk(self, path: Path, url: str, offset: int, length: int) -> None:
        digest = base64.b64encode(sha256_of(read_range(path, offset, length))).decode()
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Length": str(length),
            "Content-Digest": f"sha-256=:{digest}:",
        }

        def attempt() -> None:
            sent = 0

            def body() -> Iterator[bytes]:
                nonlocal sent
                for block in read_range(path, offset, length):
                    yield block
                    sent += len(block)
                    self.reporter.advance(len(block))

            try:
                self.api.request("PUT", url, content=body(), headers=headers)
            except BaseException:
                self.reporter.advance(-sent)
                raise

        self.retry.call(attempt)


def complete(api: Api, upload: dict[str, Any], retry: Retry) -> dict[str, Any]:
    """The file record: complete (again) if needed, then wait out any assembly job."""
    if upload["state"] in ("receiving", "failed"):
        url = upload["urls"]["complete"]
        response = retry.call(lambda: api.request("POST", url))
        if response.status_code == 201:
            record: dict[str, Any] = response.json()
            return record
    status_url, poll = upload["urls"]["self"], 0.05
    while True:
        upload = retry.call(lambda: api.json("GET", status_url))
        if upload["state"] == "completed":
            return api.json("GET", f"/api/v1/files/{upload['file_id']}")
        if upload["state"] != "assembling":
            reason = upload.get("error") or f"the upload is {upload['state']}"
            raise ClientError("assembly_failed", reason)
        time.sleep(poll)
        poll = min(poll * 2, 2.0)
