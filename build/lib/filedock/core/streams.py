"""Stream-style uploads (tus, later the WebSocket upload): rules on top of append().

A stream upload receives its bytes in order, one writer at a time, and becomes a file by
itself when its last byte arrives: the front-end never calls "complete". This module says
where a stream stands (its offset, once any in-flight writer stopped), when a length
declared late may be set, how an upload finishes (complete, then wait a bounded time for
assembly so the client's last request returns once the file exists) and what terminating
one means at each stage.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from filedock.core.files import FileService
from filedock.core.models import Upload, UploadState
from filedock.core.uploads import LIVE, UploadService
from filedock.errors import Code, FiledockError
from filedock.locks.base import Release

DONE = (UploadState.ASSEMBLING, UploadState.COMPLETED)


def offset_of(upload: Upload) -> int:
    """Bytes the server holds: every byte once the upload is assembling or done."""
    if upload.state in DONE and upload.size is not None:
        return upload.size
    return upload.bytes_received


class StreamUploads:
    def __init__(self, uploads: UploadService, files: FileService, settle_wait: float) -> None:
        self.uploads = uploads
        self.files = files
        self.settle_wait = settle_wait

    @property
    def lock_wait(self) -> float:
        return self.uploads.policy.lock_timeout

    async def current(self, upload_id: str) -> Upload:
        """The upload after any in-flight append stopped (it is asked to let go).

        A client asks for the offset to resume after its connection died; the server may
        not have noticed yet, so the dead request still holds bytes it has not recorded.
        Waiting for the lock makes it record them, and the answer is the true offset.
        """
        upload = await self.uploads.get(upload_id)
        if upload.state not in LIVE:
            return upload
        async with self.uploads.locks.shared(upload.id, self.lock_wait):
            return await self.uploads.get(upload_id)

    async def declare_size(self, upload_id: str, size: int) -> Upload:
        """Set the length of an upload created without one; it cannot change once set."""
        upload = await self.uploads.get(upload_id)
        if upload.size is None:
            if size > self.uploads.policy.max_file_size:
                raise FiledockError(Code.FILE_TOO_LARGE, max_size=self.uploads.policy.max_file_size)
            async with self.uploads.locks.exclusive(upload.id, self.lock_wait):
                upload = await self.uploads.get(upload_id)
                if upload.size is None and upload.state in LIVE:
                    if size < upload.bytes_received:
                        raise FiledockError(
                            Code.SIZE_MISMATCH,
                            f"The upload already holds {upload.bytes_received} bytes, "
                            f"more than the length {size}.",
                        )
                    await self.uploads.ledger.transition(upload.id, LIVE, upload.state, size=size)
                    upload.size = size
        if upload.size != size:
            raise FiledockError(
                Code.SIZE_MISMATCH,
                f"The upload's length is {upload.size}; it cannot change to {size}.",
            )
        return upload

    async def write(
        self,
        upload_id: str,
        offset: int,
        body: AsyncIterator[bytes],
        *,
        content_length: int | None = None,
        digests: dict[str, bytes] | None = None,
        on_release: Release | None = None,
        finish: bool = True,
    ) -> Upload:
        """Append at `offset`; with `finish`, the last byte turns the upload into a file.

        Re-sending the end of a finished upload (a client that missed the answer to its
        last request) is answered as if it were new, provided it carries no bytes.
        """
        try:
            upload = await self.uploads.append(
                upload_id,
                offset,
                body,
                content_length=content_length,
                digests=digests,
                on_release=on_release,
            )
        except FiledockError as exc:
            if exc.code != Code.UPLOAD_NOT_RECEIVING:
                raise
            upload = await self.uploads.get(upload_id)
            if upload.state not in DONE:
                raise
            await _nothing_after_end(upload, offset, body)
            return await self.settle(upload.id)
        return await self.finish(upload) if finish else upload

    async def finish(self, upload: Upload) -> Upload:
        """Complete an upload whose every byte is in, and wait for its file (bounded)."""
        if upload.size is None or upload.bytes_received < upload.size:
            return upload
        return await self.uploads.complete_and_settle(upload.id, self.settle_wait)

    async def settle(self, upload_id: str) -> Upload:
        """The upload once its assembly (if running) ended, or after the bounded wait."""
        return await self.uploads.settle(upload_id, self.settle_wait)

    async def terminate(self, upload_id: str) -> None:
        """Free an upload whatever its stage: staged bytes, or the file it became.

        An in-flight append is asked to let go first (abort takes the upload's lock).
        """
        upload = await self.uploads.get(upload_id)
        if upload.state != UploadState.COMPLETED:
            await self.uploads.abort(upload_id)
            return
        if upload.file_id is not None:
            with contextlib.suppress(FiledockError):  # the file may be deleted already
                await self.files.delete(upload.file_id)
        await self.uploads.ledger.transition(
            upload.id, (UploadState.COMPLETED,), UploadState.ABORTED
        )
        await self.uploads.publish("upload.aborted", upload)


async def _nothing_after_end(upload: Upload, offset: int, body: AsyncIterator[bytes]) -> None:
    end = offset_of(upload)
    if offset != end:
        raise FiledockError(
            Code.OFFSET_MISMATCH,
            f"The upload is complete at {end} bytes; data was sent at offset {offset}.",
            offset=end,
        )
    async for piece in body:
        if piece:
            raise FiledockError(
                Code.CHUNK_TOO_LARGE, f"The upload is complete at {end} bytes; nothing fits."
            )
