"""One writer per upload, and a dead writer cannot lock a client out.

The lock service tests run in memory; the rest use a real server and raw sockets, so a
"dead" connection really is one the server cannot tell from a slow one.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager

import httpx
import pytest

from filedock.errors import Code, FiledockError
from filedock.locks.memory import MemoryLocks
from tests.realserver import ServerProcess
from tests.tus.conftest import OCTET, TUS

KiB = 1024


# the lock service ------------------------------------------------------------------------
async def test_a_waiter_asks_the_holder_to_let_go() -> None:
    locks, asked = MemoryLocks(), asyncio.Event()
    holding = asyncio.Event()

    async def holder() -> None:
        async with locks.exclusive("u", 5, on_release=asked.set):
            holding.set()
            await asked.wait()  # a cooperative holder stops its work when asked

    task = asyncio.create_task(holder())
    await holding.wait()
    async with locks.exclusive("u", 5):
        assert asked.is_set()
    await task


async def test_readers_ask_too_and_holders_without_a_callback_are_waited_for() -> None:
    locks, asked = MemoryLocks(), asyncio.Event()
    async with locks.exclusive("u", 5, on_release=asked.set):
        with pytest.raises(FiledockError) as caught:
            async with locks.shared("u", 0.05):
                pass
    assert asked.is_set() and caught.value.code == Code.UPLOAD_BUSY
    async with locks.exclusive("v", 5):
        with pytest.raises(FiledockError):
            async with locks.exclusive("v", 0.05):
                pass


# a real server ---------------------------------------------------------------------------
@contextmanager
def stalled_patch(
    server: ServerProcess, path: str, offset: int, total: int, sent: bytes
) -> Iterator[socket.socket]:
    """A PATCH announcing `total` bytes that sends only `sent`, then goes silent."""
    sock = socket.create_connection(("127.0.0.1", server.port))
    with closing(sock):
        head = (
            f"PATCH {path} HTTP/1.1\r\nHost: test\r\nTus-Resumable: 1.0.0\r\n"
            f"Content-Type: application/offset+octet-stream\r\nUpload-Offset: {offset}\r\n"
            f"Content-Length: {total}\r\n\r\n"
        )
        sock.sendall(head.encode() + sent)
        time.sleep(0.3)  # the server is now inside the PATCH, waiting for more
        yield sock


def _create(http: httpx.Client, length: int) -> str:
    answer = http.post("/files/", headers={**TUS, "Upload-Length": str(length)})
    assert answer.status_code == 201, answer.text
    return httpx.URL(answer.headers["Location"]).path


@pytest.mark.server
def test_a_stalled_patch_is_asked_to_let_go_and_keeps_its_bytes(tus_server: ServerProcess) -> None:
    size = 256 * KiB
    with httpx.Client(base_url=tus_server.url, timeout=10) as http:
        path = _create(http, size)
        with stalled_patch(tus_server, path, 0, size, b"a" * (100 * KiB)) as stale:
            started = time.monotonic()
            head = http.head(path, headers=TUS)
            assert time.monotonic() - started < 5  # not the 30 s lock timeout
            assert head.headers["Upload-Offset"] == str(100 * KiB)
            reply = stale.recv(4096).lower()  # the stale request is answered truthfully
            assert reply.startswith(b"http/1.1 204") and b"upload-offset: 102400" in reply
            rest = http.patch(
                path, headers={**OCTET, "Upload-Offset": str(100 * KiB)}, content=b"b" * (156 * KiB)
            )
            assert rest.status_code == 204 and rest.headers["Upload-Offset"] == str(size)
        assert http.get(path).content == b"a" * (100 * KiB) + b"b" * (156 * KiB)


@pytest.mark.server
def test_two_patches_never_interleave(tus_server: ServerProcess) -> None:
    size = 64 * KiB
    with httpx.Client(base_url=tus_server.url, timeout=10) as http:
        path = _create(http, size)
        with stalled_patch(tus_server, path, 0, size, b"a" * (10 * KiB)):
            second = http.patch(path, headers={**OCTET, "Upload-Offset": "0"}, content=b"b" * size)
            assert second.status_code == 409  # the first kept its 10 KiB; offset 0 is stale
        offset = int(http.head(path, headers=TUS).headers["Upload-Offset"])
        assert offset == 10 * KiB
        last = http.patch(
            path, headers={**OCTET, "Upload-Offset": str(offset)}, content=b"c" * (size - offset)
        )
        assert last.status_code == 204
        assert http.get(path).content == b"a" * offset + b"c" * (size - offset)


@pytest.mark.server
def test_terminating_interrupts_a_stalled_patch(tus_server: ServerProcess) -> None:
    with httpx.Client(base_url=tus_server.url, timeout=10) as http:
        path = _create(http, 64 * KiB)
        with stalled_patch(tus_server, path, 0, 64 * KiB, b"a" * KiB):
            assert http.delete(path, headers=TUS).status_code == 204
        assert http.head(path, headers=TUS).status_code == 410
