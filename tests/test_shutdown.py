"""Graceful shutdown of a real `filedock serve` process: SIGTERM under load, a chunk cut
short by the drain timeout, and a second signal."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.realserver import ServerProcess

pytestmark = pytest.mark.server

KiB = 1024
CHUNK = 64 * KiB


def server_with(tmp_path: Path, timeout: str) -> ServerProcess:
    server = ServerProcess(
        tmp_path / "data",
        FILEDOCK_SHUTDOWN_TIMEOUT_SECONDS=timeout,
        FILEDOCK_FSYNC="false",
        FILEDOCK_LOG_LEVEL="INFO",
    )
    server.start()
    return server


def terminate(server: ServerProcess, sig: int = signal.SIGTERM) -> None:
    assert server.process is not None
    server.process.send_signal(sig)


def exit_code(server: ServerProcess, within: float) -> int:
    assert server.process is not None
    return server.process.wait(within)


class Client:
    """One uploader: sends missing chunks until told to stop or the server goes away,
    then resumes against the restarted server the way every client would."""

    def __init__(self, url: str, size: int) -> None:
        self.url = url
        self.data = os.urandom(size)
        self.refusals: list[httpx.Response] = []
        self.sent = 0
        with httpx.Client(base_url=url) as http:
            body = {"filename": "f.bin", "size": size, "chunk_size": CHUNK}
            self.upload: dict[str, Any] = http.post("/api/v1/uploads", json=body).json()

    def send_missing(self) -> bool:
        """True when every chunk is in; False when the server stopped answering."""
        with httpx.Client(base_url=self.url, timeout=30) as http:
            state = http.get(f"/api/v1/uploads/{self.upload['id']}").json()
            for index in state["missing_chunks"]:
                piece = self.data[index * CHUNK : (index + 1) * CHUNK]
                try:
                    answer = http.put(
                        f"/api/v1/uploads/{self.upload['id']}/chunks/{index}", content=piece
                    )
                except httpx.TransportError:
                    return False
                if answer.status_code == 503:
                    self.refusals.append(answer)
                    return False
                assert answer.status_code == 200, answer.text
                self.sent += 1
        return True

    def finish(self) -> None:
        assert self.send_missing()
        with httpx.Client(base_url=self.url, timeout=60) as http:
            done = http.post(f"/api/v1/uploads/{self.upload['id']}/complete")
            assert done.status_code == 201, done.text
            assert done.json()["sha256"] == hashlib.sha256(self.data).hexdigest()
            content = http.get(f"/api/v1/files/{done.json()['id']}/content").content
            assert content == self.data


def test_sigterm_under_load_loses_nothing(tmp_path: Path) -> None:
    server = server_with(tmp_path, "5s")
    clients = [Client(server.url, 96 * CHUNK + 123) for _ in range(4)]
    threads = [threading.Thread(target=c.send_missing) for c in clients]
    for thread in threads:
        thread.start()
    while sum(c.sent for c in clients) < 40:  # well under way, every client sending
        time.sleep(0.01)
    terminate(server)
    assert exit_code(server, within=15) == 0, server.log.read_text()[-3000:]
    assert "shutting down: " in server.log.read_text()
    for thread in threads:
        thread.join(30)
    assert sum(c.sent for c in clients) < 4 * 97, "the load ended before the signal"
    for refusal in (r for c in clients for r in c.refusals):
        assert refusal.headers["retry-after"].isdigit()
        assert refusal.json()["code"] == "shutting_down"

    server.start()  # the same data, as after a restart
    try:
        for client in clients:
            client.finish()  # resumes: sends only what is missing, then byte-exact
    finally:
        server.stop()
    assert "Traceback" not in server.log.read_text()


def slow_chunk(server: ServerProcess, upload_id: str) -> socket.socket:
    """A chunk PUT that sends 64 KiB of its 128 KiB body and then waits."""
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(
        f"PUT /api/v1/uploads/{upload_id}/chunks/0 HTTP/1.1\r\nHost: x\r\n"
        f"Content-Length: {2 * CHUNK}\r\n\r\n".encode()
        + b"a" * CHUNK
    )
    return sock


def test_a_chunk_still_arriving_at_the_deadline_gets_503_and_is_not_recorded(
    tmp_path: Path,
) -> None:
    server = server_with(tmp_path, "1s")
    body = {"filename": "f.bin", "size": 4 * CHUNK, "chunk_size": 2 * CHUNK}
    upload = httpx.post(f"{server.url}/api/v1/uploads", json=body).json()
    sock = slow_chunk(server, upload["id"])
    time.sleep(0.5)
    terminate(server)
    sock.settimeout(10)
    started = time.monotonic()
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    sock.close()
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503"), answer
    assert b"retry-after: 5" in head.lower()
    assert b'"shutting_down"' in payload
    assert time.monotonic() - started < 5
    assert exit_code(server, within=10) == 0

    server.start()
    try:
        state = httpx.get(f"{server.url}/api/v1/uploads/{upload['id']}").json()
        assert state["received_chunks"] == []  # nothing half-written was recorded
    finally:
        server.stop()


def test_a_second_signal_exits_at_once(tmp_path: Path) -> None:
    server = server_with(tmp_path, "60s")
    body = {"filename": "f.bin", "size": 4 * CHUNK, "chunk_size": 2 * CHUNK}
    upload = httpx.post(f"{server.url}/api/v1/uploads", json=body).json()
    sock = slow_chunk(server, upload["id"])
    time.sleep(0.5)
    terminate(server)
    time.sleep(0.5)
    assert server.process is not None and server.process.poll() is None  # still draining
    terminate(server, signal.SIGINT)
    started = time.monotonic()
    assert exit_code(server, within=5) != 0
    assert time.monotonic() - started < 2
    sock.close()
