"""kill -9 at any moment and a full disk: nothing completed is harmed, nothing is half-recorded.

These run a real server process, because a crash must be a real crash: no finally
blocks, no lifespan shutdown, only what reached the disk and the database survives.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.realserver import ServerProcess

MiB = 1024 * 1024


def _create(http: httpx.Client, data: bytes, chunk: int, **extra: object) -> dict:
    body = {"filename": "crash.bin", "size": len(data), "chunk_size": chunk, **extra}
    answer = http.post("/api/v1/uploads", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def _put(http: httpx.Client, upload: dict, index: int, data: bytes) -> None:
    size = upload["chunk_size"]
    piece = data[index * size : (index + 1) * size]
    answer = http.put(f"/api/v1/uploads/{upload['id']}/chunks/{index}", content=piece)
    assert answer.status_code == 200, answer.text


def _wait_completed(http: httpx.Client, upload_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = http.get(f"/api/v1/uploads/{upload_id}").json()
        if status["state"] in ("completed", "failed"):
            return status
        if status["state"] == "receiving":  # the kill came before completion was recorded
            http.post(f"/api/v1/uploads/{upload_id}/complete")
        time.sleep(0.1)
    raise AssertionError(f"upload {upload_id} did not settle: {status}")


@pytest.mark.server
def test_kill_during_a_chunk_write_reports_that_chunk_missing(server: ServerProcess) -> None:
    chunk = 2 * MiB
    data = os.urandom(4 * chunk)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        upload = _create(http, data, chunk)
        _put(http, upload, 0, data)
        _put(http, upload, 1, data)

    stall = threading.Event()

    def half_a_chunk() -> Iterator[bytes]:
        yield data[2 * chunk : 2 * chunk + chunk * 3 // 4]
        stall.wait(30)

    def send_half() -> None:
        headers = {"Content-Length": str(chunk)}
        url = f"{server.url}/api/v1/uploads/{upload['id']}/chunks/2"
        # The server dies under us (the point) and the body ends short: any error is fine.
        with contextlib.suppress(Exception):
            httpx.put(url, content=half_a_chunk(), headers=headers, timeout=30)

    sender = threading.Thread(target=send_half)
    sender.start()
    staging = server.data_dir / "storage" / "staging"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        sizes = [p.stat().st_size for p in staging.iterdir()]
        if sizes and max(sizes) > 2 * chunk:  # part of chunk 2 is on disk
            break
        time.sleep(0.01)
    else:
        raise AssertionError("the half chunk never reached the staging file")
    server.kill()
    stall.set()
    sender.join()
    server.start()

    with httpx.Client(base_url=server.url, timeout=30) as http:
        status = http.get(f"/api/v1/uploads/{upload['id']}").json()
        assert status["received_chunks"] == [0, 1]
        assert status["missing_chunks"] == [2, 3]
        _put(http, upload, 3, data)
        _put(http, upload, 2, data)
        done = http.post(f"/api/v1/uploads/{upload['id']}/complete")
        assert done.status_code == 201, done.text
        assert http.get(done.json()["urls"]["content"]).content == data


@pytest.mark.server
@pytest.mark.parametrize("delay", [0.0, 0.02, 0.1, 0.3])
def test_kill_during_completion_loses_nothing(server: ServerProcess, delay: float) -> None:
    chunk = 1 * MiB
    kept = os.urandom(3 * MiB)
    data = os.urandom(24 * MiB + 5)
    with httpx.Client(base_url=server.url, timeout=60) as http:
        first = _create(http, kept, chunk)
        for index in range(3):
            _put(http, first, index, kept)
        kept_file = http.post(f"/api/v1/uploads/{first['id']}/complete").json()

        upload = _create(http, data, chunk, sha256=hashlib.sha256(data).hexdigest())
        for index in reversed(range(25)):  # out of order: completion must re-read to hash
            _put(http, upload, index, data)

    completer = threading.Thread(target=_complete_and_ignore_the_crash, args=(server, upload))
    completer.start()
    time.sleep(delay)
    server.kill()
    completer.join()
    server.start()

    with httpx.Client(base_url=server.url, timeout=60) as http:
        status = _wait_completed(http, upload["id"])
        assert status["state"] == "completed", status
        record = http.get(f"/api/v1/files/{status['file_id']}").json()
        assert record["sha256"] == hashlib.sha256(data).hexdigest()
        assert http.get(record["urls"]["content"]).content == data
        assert http.get(kept_file["urls"]["content"]).content == kept
        assert http.get("/api/v1/files").json()["total"] == 2
    leftovers = list((server.data_dir / "storage" / "staging").iterdir())
    assert leftovers == []


def _complete_and_ignore_the_crash(server: ServerProcess, upload: dict) -> None:
    with contextlib.suppress(httpx.TransportError):
        httpx.post(f"{server.url}/api/v1/uploads/{upload['id']}/complete", timeout=60)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs as the storage folder: a real ENOSPC, not a simulated one."""
    mount = tmp_path / "small"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True
    )
    if result.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot mount a tmpfs for the disk-full test: {result.stderr!r}")
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.server
def test_disk_full_is_507_and_the_upload_stays_resumable(tmp_path: Path, small_disk: Path) -> None:
    server = ServerProcess(tmp_path / "data", FILEDOCK_STORAGE_URL=f"file://{small_disk}")
    server.start()
    try:
        kept = os.urandom(200_000)
        data = os.urandom(2 * MiB)
        chunk = 256 * 1024
        with httpx.Client(base_url=server.url, timeout=30) as http:
            first = _create(http, kept, chunk)
            _put(http, first, 0, kept)
            kept_file = http.post(f"/api/v1/uploads/{first['id']}/complete").json()

            upload = _create(http, data, chunk)
            url = f"/api/v1/uploads/{upload['id']}/chunks"
            answers = [
                http.put(f"{url}/{i}", content=data[i * chunk : (i + 1) * chunk]) for i in range(8)
            ]
            full = [a for a in answers if a.status_code != 200]
            assert full, "the 1 MiB disk never filled up"
            assert {a.status_code for a in full} == {507}
            assert full[0].json()["code"] == "storage_full"
            received = http.get(f"/api/v1/uploads/{upload['id']}").json()["received_chunks"]
            assert received == [i for i, a in enumerate(answers) if a.status_code == 200]
            assert http.get(kept_file["urls"]["content"]).content == kept

            subprocess.run(["mount", "-o", "remount,size=8m", str(small_disk)], check=True)
            missing = http.get(f"/api/v1/uploads/{upload['id']}").json()["missing_chunks"]
            for i in missing:
                assert http.put(f"{url}/{i}", content=data[i * chunk : (i + 1) * chunk]).is_success
            done = http.post(f"/api/v1/uploads/{upload['id']}/complete")
            assert done.status_code == 201, done.text
            assert http.get(done.json()["urls"]["content"]).content == data
            assert http.get(kept_file["urls"]["content"]).content == kept
    finally:
        server.stop()
