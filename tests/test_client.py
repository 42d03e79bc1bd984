"""The client (`filedock upload` / `download`) against a real server process: round trip,
resume after a killed client or a killed server, and resumed, verified downloads."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from filedock.cli import app
from filedock.client import (
    Api,
    ClientError,
    ResumeState,
    Retry,
    Uploader,
    UploadOptions,
    download_file,
)
from filedock.client.state import Entry
from tests.realserver import ServerProcess

pytestmark = pytest.mark.server
KiB = 1024
MiB = 1024 * KiB


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ResumeState:
    path = tmp_path / "client" / "uploads.json"
    monkeypatch.setenv("FILEDOCK_CLIENT_STATE", str(path))
    return ResumeState(path)


@pytest.fixture
def make_file(tmp_path: Path) -> Callable[[int], Path]:
    def make(size: int) -> Path:
        path = tmp_path / f"source-{size}.bin"
        path.write_bytes(os.urandom(size))
        return path

    return make


def cli(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def status(server: ServerProcess, upload_id: str) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/api/v1/uploads/{upload_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def settled_status(server: ServerProcess, upload_id: str) -> dict[str, Any]:
    """The status once requests cut off by a kill have been dealt with by the server."""
    before = status(server, upload_id)
    while True:
        time.sleep(0.3)
        after = status(server, upload_id)
        if after["received_chunks"] == before["received_chunks"]:
            return after
        before = after


def wait_for(condition: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError("timed out")


def test_upload_then_download_with_the_cli(
    server: ServerProcess,
    state: ResumeState,
    make_file: Callable[[int], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = make_file(3 * MiB + 123)
    result = cli(
        "upload", str(source), "--server", server.url, "--chunk-size", str(256 * KiB),
        "--parallel", "4", "--content-type", "text/plain", "--metadata", '{"team": "a"}',
        "--json",
    )  # fmt: skip
    out = json.loads(result.stdout)
    assert out["upload"] == {
        "id": out["upload"]["id"],
        "resumed": False,
        "chunks_sent": 13,
        "chunk_count": 13,
    }
    record = out["file"]
    assert (record["sha256"], record["size"]) == (sha256(source), source.stat().st_size)
    assert (record["content_type"], record["metadata"]) == ("text/plain", {"team": "a"})
    assert json.loads(state.path.read_text()) == {}  # the finished upload is forgotten

    monkeypatch.chdir(tmp_path / "client")
    saved = Path(cli("download", record["id"], "--server", server.url).stdout.strip())
    assert saved == tmp_path / "client" / source.name
    assert saved.read_bytes() == source.read_bytes()


def test_upload_prints_the_file_id_and_fails_cleanly(
    server: ServerProcess, state: ResumeState, make_file: Callable[[int], Path]
) -> None:
    source = make_file(1000)
    file_id = cli("upload", str(source), "--server", server.url).stdout.strip()
    assert httpx.get(f"{server.url}/api/v1/files/{file_id}").json()["sha256"] == sha256(source)

    missing = CliRunner().invoke(app, ["download", "nope", "--server", server.url])
    assert missing.exit_code == 1
    assert "file_not_found" in missing.stderr
    bad = CliRunner().invoke(app, ["upload", str(source), "--metadata", "[1]"])
    assert bad.exit_code == 2


def test_a_killed_client_resumes_with_only_the_missing_chunks(
    server: ServerProcess, state: ResumeState, make_file: Callable[[int], Path]
) -> None:
    source = make_file(8 * MiB)
    command = ["upload", str(source), "--server", server.url, "--chunk-size", str(64 * KiB)]
    client = subprocess.Popen(
        [sys.executable, "-m", "filedock", *command, "--parallel", "1"],
        env={**os.environ, "FILEDOCK_CLIENT_STATE": str(state.path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        entry = wait_for(lambda: json.loads(state.path.read_text()) if state.path.exists() else {})
        upload_id = next(iter(entry.values()))["upload_id"]
        wait_for(lambda: len(status(server, upload_id)["received_chunks"]) >= 3)
    finally:
        client.kill()
        client.wait()
    before = settled_status(server, upload_id)
    assert 3 <= len(before["received_chunks"]) < 128 and before["state"] == "receiving"

    out = json.loads(cli(*command, "--json").stdout)
    assert out["upload"]["id"] == upload_id and out["upload"]["resumed"]
    assert out["upload"]["chunks_sent"] == len(before["missing_chunks"])
    with Api(server.url) as api:
        copy = download_file(api, out["file"]["id"], source.with_suffix(".copy")).path
    assert copy.read_bytes() == source.read_bytes()


class KillServerAfter:
    """A Reporter that kills the server with SIGKILL once `limit` bytes were uploaded,
    then runs `then` (once; from a chunk-sending thread)."""

    def __init__(
        self, server: ServerProcess, limit: int, then: Callable[[], None] = lambda: None
    ) -> None:
        self.server, self.limit, self.then = server, limit, then
        self.sent, self.phase, self.killed = 0, "", False
        self.lock = threading.Lock()

    def start(self, description: str, total: int, done: int = 0) -> None:
        self.phase = description

    def advance(self, size: int) -> None:
        with self.lock:
            self.sent += size if self.phase == "uploading" else 0
            if self.killed or self.sent < self.limit:
                return
            self.killed = True
        self.server.kill()
        self.then()


def test_an_upload_cut_by_a_server_crash_resumes_after_restart(
    server: ServerProcess, state: ResumeState, make_file: Callable[[int], Path]
) -> None:
    source = make_file(4 * MiB + 1)
    options = UploadOptions(chunk_size=256 * KiB, parallel=2)
    with Api(server.url) as api:
        crashing = Uploader(
            api, state, retry=Retry(attempts=2, delay=0.01), reporter=KillServerAfter(server, MiB)
        )
        with pytest.raises(httpx.TransportError):
            crashing.upload(source, options)
    server.start()
    upload_id = next(iter(json.loads(state.path.read_text()).values()))["upload_id"]
    before = settled_status(server, upload_id)
    assert before["received_chunks"] and before["missing_chunks"]

    with Api(server.url) as api:
        result = Uploader(api, state).upload(source, options)
        assert (result.upload_id, result.resumed) == (upload_id, True)
        assert result.chunks_sent == len(before["missing_chunks"])
        copy = download_file(api, result.file["id"], source.with_suffix(".copy")).path
    assert copy.read_bytes() == source.read_bytes()


def test_retries_ride_out_a_server_restart(
    server: ServerProcess, state: ResumeState, make_file: Callable[[int], Path]
) -> None:
    source = make_file(4 * MiB)
    restart = threading.Thread(target=server.start)
    crash = KillServerAfter(server, MiB, then=restart.start)
    with Api(server.url) as api:
        retry = Retry(attempts=10, delay=0.2, max_delay=2)
        uploader = Uploader(api, state, retry=retry, reporter=crash)
        result = uploader.upload(source, UploadOptions(chunk_size=256 * KiB, parallel=2))
        restart.join()
        assert crash.killed and not result.resumed
        copy = download_file(api, result.file["id"], source.with_suffix(".copy")).path
    assert copy.read_bytes() == source.read_bytes()


def test_an_upload_the_server_forgot_starts_again(
    server: ServerProcess, state: ResumeState, make_file: Callable[[int], Path]
) -> None:
    source = make_file(300 * KiB)
    stat = source.stat()
    gone = Entry("0" * 32, stat.st_size, stat.st_mtime_ns, sha256(source))
    state.put(server.url, source.resolve(), gone)
    with Api(server.url) as api:
        result = Uploader(api, state).upload(source, UploadOptions(chunk_size=100 * KiB))
    assert not result.resumed and result.upload_id != gone.upload_id
    assert (result.chunks_sent, result.file["sha256"]) == (3, gone.sha256)


@pytest.fixture
def uploaded(
    server: ServerProcess, state: ResumeState, make_file: Callable[[int], Path]
) -> Iterator[tuple[Api, Path, dict[str, Any]]]:
    source = make_file(3 * MiB + 7)
    with Api(server.url) as api:
        yield api, source, Uploader(api, state).upload(source).file


def test_a_partial_download_is_resumed(
    uploaded: tuple[Api, Path, dict[str, Any]], tmp_path: Path
) -> None:
    api, source, record = uploaded
    target = tmp_path / "copy.bin"
    partial = tmp_path / f"copy.bin.{record['sha256'][:16]}.part"
    partial.write_bytes(source.read_bytes()[: 2 * MiB])

    result = download_file(api, record["id"], target)
    assert (result.path, result.fetched) == (target, MiB + 7)
    assert target.read_bytes() == source.read_bytes() and not partial.exists()


def test_a_corrupt_partial_download_is_caught_and_discarded(
    uploaded: tuple[Api, Path, dict[str, Any]], tmp_path: Path
) -> None:
    api, source, record = uploaded
    target = tmp_path / "copy.bin"
    partial = tmp_path / f"copy.bin.{record['sha256'][:16]}.part"
    partial.write_bytes(b"x" * MiB)

    with pytest.raises(ClientError) as caught:
        download_file(api, record["id"], target)
    assert caught.value.code == "checksum_mismatch"
    assert not partial.exists() and not target.exists()
    assert download_file(api, record["id"], target).fetched == source.stat().st_size
    assert target.read_bytes() == source.read_bytes()
