"""Size rules of uploads, derived once from settings and the storage backend's limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from filedock.core.models import Upload
from filedock.errors import Code, FiledockError


@dataclass(frozen=True)
class UploadPolicy:
    """Size rules, derived once from settings and the backend's limits."""

    default_chunk_size: int
    max_chunk_size: int
    min_chunk_size: int
    max_parts: int
    max_file_size: int
    ttl: timedelta
    lock_timeout: float = 30.0

    def chunk_size_for(self, requested: int | None, size: int | None) -> int:
        chosen = min(
            max(requested or self.default_chunk_size, self.min_chunk_size), self.max_chunk_size
        )
        if size is not None and -(-size // chosen) > self.max_parts:
            chosen = -(-size // self.max_parts)  # grow chunks so the part count fits
        return chosen

    def chunk_bounds(self, upload: Upload, index: int) -> tuple[int, int, bool]:
        """(offset, maximum length, whether the length must be exactly the maximum)."""
        count = upload.chunk_count
        limit = count if count is not None else self.max_parts
        if index < 0 or index >= limit:
            raise FiledockError(
                Code.CHUNK_INDEX_OUT_OF_RANGE,
                f"Chunk index {index} is outside 0..{limit - 1}.",
                chunk_count=count,
            )
        offset = index * upload.chunk_size
        if upload.size is None:
            if offset >= self.max_file_size:
                raise FiledockError(Code.FILE_TOO_LARGE, max_size=self.max_file_size)
            return offset, min(upload.chunk_size, self.max_file_size - offset), False
        return offset, min(upload.chunk_size, upload.size - offset), True

    def final_size(self, upload: Upload, declared: int | None) -> int:
        """The size a completing upload has: declared at creation, or at completion (it
        must then match what the chunks form), within max_file_size."""
        received = max((p.end for p in upload.parts), default=0)
        if upload.size is not None:
            if declared is not None and declared != upload.size:
                raise FiledockError(
                    Code.SIZE_MISMATCH,
                    f"The upload was created with size {upload.size}, not {declared}.",
                )
            return upload.size
        total = received if declared is None else declared
        if total > self.max_file_size:
            raise FiledockError(Code.FILE_TOO_LARGE, max_size=self.max_file_size)
        short = [p.number for p in upload.parts if p.end < total and p.size != upload.chunk_size]
        if short or received > total:
            raise FiledockError(
                Code.SIZE_MISMATCH,
                f"The chunks received ({received} bytes) do not form a file of {total} bytes.",
                short_chunks=short,
            )
        return total


def check_length(actual: int, length: int, exact: bool) -> None:
    if actual > length:
        raise FiledockError(
            Code.CHUNK_TOO_LARGE, f"The chunk has {actual} bytes; at most {length} fit here."
        )
    if exact and actual != length:
        raise FiledockError(
            Code.CHUNK_LENGTH_MISMATCH,
            f"The chunk has {actual} bytes; this chunk must have exactly {length}.",
            expected=length,
            received=actual,
        )


def check_content_range(
    declared: tuple[int, int, int | None], offset: int, bounds: tuple[int, bool], size: int | None
) -> None:
    """A chunk's Content-Range (start, end exclusive, total or None for `*`) must name
    exactly where the chunk goes (416) and, when the upload's size is known, that size
    (409): a client that disagrees with the server about the layout must not be stored."""
    start, end, total = declared
    length, exact = bounds
    if start != offset or end - start > length or (exact and end - start != length):
        expected = f"bytes {offset}-{offset + length - 1}" if exact else f"from byte {offset}"
        raise FiledockError(
            Code.CONTENT_RANGE_MISMATCH,
            f"Content-Range says bytes {start}-{end - 1}; this chunk is {expected}.",
            offset=offset,
            length=length,
        )
    if total is not None and size is not None and total != size:
        raise FiledockError(
            Code.SIZE_MISMATCH,
            f"Content-Range says the file has {total} bytes; the upload has {size}.",
            expected=size,
            received=total,
        )
