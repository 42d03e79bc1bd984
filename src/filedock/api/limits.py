"""Bounds on what any request may carry before a route looks at it.

uvicorn's default parser (httptools) sets no limit on the size or number of request
headers, so filedock bounds them itself, on every route, as an app-wide dependency: the
refusal is a FiledockError, rendered in the wire format of the front-end that was asked
(native JSON, seed envelope, tus). 100 headers and 32 KiB in all are far above what any
client sends (tus metadata included) and far below what would cost memory.
"""

from __future__ import annotations

from fastapi import Request

from filedock.errors import Code, FiledockError

MAX_HEADERS = 100
MAX_HEADER_BYTES = 32 * 1024


async def bounded_headers(request: Request) -> None:
    raw = request.scope["headers"]
    size = sum(len(name) + len(value) for name, value in raw)
    if len(raw) > MAX_HEADERS or size > MAX_HEADER_BYTES:
        raise FiledockError(
            Code.HEADERS_TOO_LARGE,
            f"The request has {len(raw)} headers of {size} bytes in all; "
            f"at most {MAX_HEADERS} headers and {MAX_HEADER_BYTES} bytes are accepted.",
            max_headers=MAX_HEADERS,
            max_bytes=MAX_HEADER_BYTES,
        )
