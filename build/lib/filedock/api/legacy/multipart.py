"""multipart/form-data read as a stream, so a chunk's bytes go straight to storage.

Starlette's `request.form()` spools every file part to a temporary file before the route
sees it: a second copy of each chunk. Here parts are handed over one at a time while the
body arrives. The chunk route streams the file part into the upload core when the fields
naming the upload came before it (browsers' FormData and httpx/requests send them in
that order) and spools it, bounded by the maximum chunk size, only when they come after.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from tempfile import SpooledTemporaryFile

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.datastructures import UploadFile

from filedock.errors import Code, FiledockError

MAX_PARTS = 64
SPOOL_IN_MEMORY = 1024 * 1024
READ_BLOCK = 1024 * 1024


@dataclass(frozen=True)
class _Start:
    name: str
    filename: str | None


class _End:
    pass


_END = _End()
_Event = _Start | bytes | _End  # a part starts, its data arrives, it ends


def malformed(reason: str) -> FiledockError:
    return FiledockError(Code.INVALID_REQUEST, f"The multipart body is malformed: {reason}.")


@dataclass
class Part:
    """One part; `body` must be read (or is skipped) before the next part is produced."""

    name: str
    filename: str | None
    body: AsyncIterator[bytes]

    async def text(self, limit: int) -> str:
        value = bytearray()
        async for piece in self.body:
            value += piece
            if len(value) > limit:
                raise FiledockError(
                    Code.INVALID_REQUEST, f"The field {self.name!r} is over {limit} bytes."
                )
        return value.decode("utf-8", errors="replace")


class MultipartReader:
    """Feeds python-multipart's push parser from the request and yields `Part`s."""

    def __init__(self, content_type: str, stream: AsyncIterator[bytes]) -> None:
        _, params = parse_options_header(content_type)
        boundary = params.get(b"boundary")
        if not boundary:
            raise malformed("the Content-Type has no boundary")
        self._stream = stream
        self._ended = False
        self._events: deque[_Event] = deque()
        self._headers: dict[bytes, bytes] = {}
        self._header = [bytearray(), bytearray()]
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._headers.clear,
                "on_header_field": lambda data, start, end: self._header[0].extend(data[start:end]),
                "on_header_value": lambda data, start, end: self._header[1].extend(data[start:end]),
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": lambda data, start, end: self._events.append(data[start:end]),
                "on_part_end": lambda: self._events.append(_END),
            },
        )

    def _header_end(self) -> None:
        name, value = self._header
        self._headers[bytes(name).lower()] = bytes(value)
        self._header = [bytearray(), bytearray()]

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition"))
        if b"name" not in options:
            raise malformed("a part has no name")
        filename = options.get(b"filename")
        self._events.append(
            _Start(
                options[b"name"].decode(errors="replace"),
                None if filename is None else filename.decode(errors="replace"),
            )
        )

    async def _next(self) -> _Event | None:
        while not self._events:
            if self._ended:
                return None
            try:
                data = await self._stream.__anext__()
            except StopAsyncIteration:
                self._ended = True
                continue
            try:
                self._parser.write(data)
            except FormParserError as exc:
                raise malformed(str(exc)) from exc
        return self._events.popleft()

    async def _body(self) -> AsyncIterator[bytes]:
        while True:
            event = await self._next()
            if event is None:
                raise malformed("the body ended inside a part")
            if isinstance(event, _End):
                return
            if isinstance(event, bytes) and event:
                yield event

    async def parts(self) -> AsyncIterator[Part]:
        count = 0
        while (event := await self._next()) is not None:
            if not isinstance(event, _Start):
                continue  # data outside any part cannot come from the parser
            count += 1
            if count > MAX_PARTS:
                raise malformed(f"more than {MAX_PARTS} parts")
            part = Part(event.name, event.filename, self._body())
            yield part
            async for _ in part.body:  # whatever the consumer left unread
                pass


class Spool:
    """A file part kept aside (memory, then disk) until the fields naming it arrive."""

    def __init__(self) -> None:
        spooled = SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - closed by close()
        self._file = UploadFile(spooled)  # type: ignore[arg-type]  # as Starlette does
        self.size = 0

    async def fill(self, body: AsyncIterator[bytes], limit: int) -> None:
        async for piece in body:
            self.size += len(piece)
            if self.size > limit:
                raise FiledockError(
                    Code.CHUNK_TOO_LARGE, f"The chunk is over the maximum of {limit} bytes."
                )
            await self._file.write(piece)

    async def blocks(self) -> AsyncIterator[bytes]:
        await self._file.seek(0)
        while block := await self._file.read(READ_BLOCK):
            yield block

    async def close(self) -> None:
        await self._file.close()
