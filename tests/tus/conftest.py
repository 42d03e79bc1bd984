"""tus test helpers: a protocol client over ASGI, a real server, files, and node."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from filedock.app import create_app
from filedock.settings import Settings
from tests.realserver import ServerProcess

MiB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}
OCTET = {**TUS, "Content-Type": "application/offset+octet-stream"}
NODE_DIR = Path(__file__).with_name("node")


def metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


@dataclass
class Tus:
    """The verbs with the headers every request needs; each returns the raw response."""

    http: httpx.AsyncClient

    async def create(self, length: int | None = None, **headers: str) -> httpx.Response:
        if length is not None:
            headers.setdefault("Upload-Length", str(length))
        return await self.http.post("/files/", headers={**TUS, **_names(headers)})

    async def new(self, length: int | None = None, **headers: str) -> str:
        """Create and return the upload's path."""
        answer = await self.create(length, **headers)
        assert answer.status_code == 201, answer.text
        return httpx.URL(answer.headers["Location"]).path

    async def patch(self, path: str, offset: int, data: bytes, **headers: str) -> httpx.Response:
        sent = {**OCTET, "Upload-Offset": str(offset), **_names(headers)}
        return await self.http.patch(path, headers=sent, content=data)

    async def head(self, path: str) -> httpx.Response:
        return await self.http.head(path, headers=TUS)

    async def upload(self, data: bytes, **headers: str) -> str:
        """A finished upload of `data`; returns its path."""
        path = await self.new(len(data), **headers)
        answer = await self.patch(path, 0, data)
        assert answer.status_code == 204, answer.text
        return path


def _names(headers: dict[str, str]) -> dict[str, str]:
    """upload_length= → Upload-Length: keyword arguments as header names."""
    return {"-".join(p.capitalize() for p in k.split("_")): v for k, v in headers.items()}


@pytest.fixture
def tus(client: httpx.AsyncClient) -> Tus:
    return Tus(client)


@contextlib.asynccontextmanager
async def app_client(settings: Settings, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app built with `settings` changed (the `client` fixture's twin)."""
    app = create_app(settings.model_copy(update=changes))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://filedock.test") as c:
            yield c


@pytest.fixture(scope="module")
def tus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One real server for a module's client tests (starting one costs a second)."""
    process = ServerProcess(tmp_path_factory.mktemp("tus") / "data")
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def file_50m(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("files") / "fifty.bin"
    path.write_bytes(os.urandom(50 * MiB))
    return path


def same_bytes(url: str, source: Path) -> bool:
    """Download `url` and compare with `source`, streaming both."""
    with source.open("rb") as expected, httpx.stream("GET", url, timeout=60) as answer:
        assert answer.status_code == 200, answer.read()
        for block in answer.iter_bytes(MiB):
            if expected.read(len(block)) != block:
                return False
        return expected.read(1) == b""


@contextmanager
def cutting_proxy(port: int, cut_after: int) -> Iterator[int]:
    """A TCP proxy to 127.0.0.1:`port`; yields its port.

    Any connection through it is cut (both ways closed) once the client sent
    `cut_after` bytes on it: a network that fails in the middle of a request.
    """
    listener = socket.create_server(("127.0.0.1", 0))

    def pump(source: socket.socket, target: socket.socket, limit: float) -> None:
        sent = 0
        with contextlib.suppress(OSError):
            while sent < limit and (data := source.recv(64 * 1024)):
                target.sendall(data if sent + len(data) <= limit else data[: int(limit - sent)])
                sent += len(data)
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
        source.close()  # each socket is the source of exactly one pump

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = listener.accept()
                server = socket.create_connection(("127.0.0.1", port))
                for args in ((client, server, cut_after), (server, client, float("inf"))):
                    threading.Thread(target=pump, args=args, daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    with listener:
        yield listener.getsockname()[1]


def node_upload(
    endpoint: str, file: Path, *, check: bool = True, **options: Any
) -> list[dict[str, Any]]:
    """Run tus-js-client (tests/tus/node/upload.mjs); returns the events it printed."""
    if shutil.which("node") is None or not (NODE_DIR / "node_modules" / "tus-js-client").exists():
        pytest.fail("tus-js-client is missing: run `make test` (npm ci in tests/tus/node)")
    spec = json.dumps({"endpoint": endpoint, "file": str(file), **options})
    done = subprocess.run(
        ["node", str(NODE_DIR / "upload.mjs"), spec], capture_output=True, text=True, timeout=120
    )
    events = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    if check:
        assert done.returncode == 0 and events[-1]["event"] == "success", (events, done.stderr)
    return events
