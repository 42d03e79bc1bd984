"""Assembly: the background half of completion, safe to run again after any crash.

compose() makes the staged bytes final without copying; the whole-file hash continues
from the in-order frontier with one read of whatever it did not cover; the file row is
keyed by the upload so a re-run never makes a second file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from filedock.core.integrity import ALGORITHMS, Frontier
from filedock.core.models import FileRecord, Upload, UploadState
from filedock.core.uploads import UploadService
from filedock.errors import Code, FiledockError


class FileLedger(Protocol):
    async def insert_file(self, record: FileRecord) -> bool: ...


class Assembler:
    def __init__(self, uploads: UploadService, files: FileLedger) -> None:
        self.uploads = uploads
        self.files = files

    async def assemble(self, upload_id: str) -> None:
        """Run (or re-run) the assembly of an upload in state `assembling`."""
        upload = await self.uploads.ledger.get_upload(upload_id)
        if upload is not None and upload.state == UploadState.COMPLETED:
            return
        if upload is None or upload.state != UploadState.ASSEMBLING:
            state = upload.state.value if upload else "gone"
            raise FiledockError(
                Code.UPLOAD_NOT_RECEIVING, f"Nothing to assemble: the upload is {state}."
            )
        try:
            await self._assemble(upload)
        except Exception as exc:
            await self._fail(upload, exc)
            raise

    async def _assemble(self, upload: Upload) -> None:
        assert upload.file_id is not None and upload.size is not None
        storage = self.uploads.storage
        # where the object ended up: S3 cannot rename, so it may not be the dest asked for
        composed = await storage.compose(
            upload.storage_key, upload.parts, f"files/{upload.file_id}"
        )
        dest = composed.key
        digests = await self._hash(upload, dest)
        mismatch = _mismatch(upload, digests)
        if mismatch:
            await storage.delete(dest)
            await storage.abort(upload.storage_key)
            await self.uploads.ledger.forget_parts(upload.id)
            raise FiledockError(Code.CHECKSUM_MISMATCH, mismatch)
        now = datetime.now(UTC)
        await self.files.insert_file(
            FileRecord(
                id=upload.file_id,
                owner=upload.owner,
                name=upload.filename,
                size=upload.size,
                content_type=upload.content_type,
                sha256=digests["sha256"],
                metadata=upload.metadata,
                storage_key=dest,
                upload_id=upload.id,
                created_at=now,
                updated_at=now,
                credential_hash=upload.credential_hash,
            )
        )
        await self.uploads.ledger.transition(
            upload.id, (UploadState.ASSEMBLING,), UploadState.COMPLETED
        )
        await self.uploads.ledger.forget_parts(upload.id)
        await storage.abort(upload.storage_key)
        await self.uploads.publish("upload.completed", upload, file_id=upload.file_id)

    async def _hash(self, upload: Upload, dest: str) -> dict[str, str]:
        """Finish the whole-file hashes, reading only what the frontier did not cover."""
        names = self.uploads.whole_file_algorithms(upload)
        frontier = self.uploads.frontiers.take(upload.id)
        if frontier is None or set(frontier.hashers) != set(names):
            frontier = Frontier(0, {name: ALGORITHMS[name]() for name in names})
        assert upload.size is not None
        if frontier.offset < upload.size:
            async for block in self.uploads.storage.read(dest, frontier.offset, upload.size):
                for hasher in frontier.hashers.values():
                    hasher.update(block)
        return {name: h.hexdigest() for name, h in frontier.hashers.items()}

    async def _fail(self, upload: Upload, exc: Exception) -> None:
        if isinstance(exc, FiledockError):
            code, reason = exc.code, exc.message
        else:
            code, reason = Code.ASSEMBLY_FAILED, f"{type(exc).__name__}: {exc}"
        await self.uploads.ledger.transition(
            upload.id,
            (UploadState.ASSEMBLING,),
            UploadState.FAILED,
            error=reason,
            error_code=code.value,
        )
        await self.uploads.publish("upload.failed", upload, error=reason)


def _mismatch(upload: Upload, digests: dict[str, Any]) -> str | None:
    for name, expected in (("sha256", upload.expected_sha256), ("md5", upload.expected_md5)):
        if expected and digests.get(name) != expected:
            return f"The file's {name} is {digests.get(name)}, not the expected {expected}."
    return None
