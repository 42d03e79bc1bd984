"""The install the README documents, alone: `pip install -c constraints.txt .` without the
dev extras, in a fresh virtualenv, serves every documented storage URL and broker.

The rest of the suite runs in the dev install, which carries test tools that also happen
to satisfy imports filedock forgot to declare; these tests run filedock's own entry point
from the runtime-only virtualenv against the real servers, so a missing runtime
dependency fails here. One virtualenv per test session (pip's cache makes it ~1 minute).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.databases import unavailable
from tests.realserver import ServerProcess
from tests.scale.processes import WorkerProcess, distributed_env
from tests.scale.services import BROKERS
from tests.storage.servers import MotoServer, SSHServer, sshd_path

pytestmark = [pytest.mark.slow, pytest.mark.server]

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "constraints.txt", "src")
# Variables that would let the runtime install see the dev install's packages.
LEAKY = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")


@pytest.fixture(scope="session")
def runtime_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a fresh virtualenv holding filedock's runtime install only.

    The sources are copied first so the build leaves nothing in the checkout."""
    work = tmp_path_factory.mktemp("runtime-install")
    source = work / "filedock"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name,
                source / name,
                ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
            )
        else:
            shutil.copy(ROOT / name, source / name)
    venv = work / "venv"
    env = clean_env()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env)
    install = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-compile",  # a throw-away venv: no .pyc for every package
            "-c",
            str(source / "constraints.txt"),
            str(source),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    return venv / "bin"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in LEAKY}
    return env | extra


def test_the_runtime_install_holds_no_dev_tool(runtime_bin: Path) -> None:
    """Otherwise the tests below would not prove anything the dev install does not."""
    listed = subprocess.run(
        [str(runtime_bin / "python"), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
        env=clean_env(),
    ).stdout.lower()
    assert "filedock==" in listed
    for dev_only in ("pytest", "moto", "boto3", "ruff", "mypy", "tuspy"):
        assert f"\n{dev_only}==" not in f"\n{listed}", dev_only


class RuntimeServer(ServerProcess):
    """`filedock serve` from the runtime install, started from a folder of its own."""

    def __init__(self, runtime_bin: Path, data_dir: Path, **env: str) -> None:
        super().__init__(data_dir, **env)
        self.env = {k: v for k, v in self.env.items() if k not in LEAKY}
        self.bin = runtime_bin

    def command(self) -> list[str]:
        return [str(self.bin / "filedock"), "serve"]


class RuntimeWorker(WorkerProcess):
    def __init__(self, runtime_bin: Path, env: dict[str, str], log: Path) -> None:
        super().__init__(env, log)
        self.env = {k: v for k, v in self.env.items() if k not in LEAKY}
        self.bin = runtime_bin

    def command(self) -> list[str]:
        return [str(self.bin / "filedock"), "worker", "--concurrency", "2"]


@pytest.fixture
def serve(runtime_bin: Path, tmp_path: Path) -> Iterator[type[RuntimeServer]]:
    started: list[RuntimeServer] = []

    def start(**env: str) -> RuntimeServer:
        server = RuntimeServer(runtime_bin, tmp_path / "data", **env)
        started.append(server)
        server.start(timeout=60)
        return server

    yield start  # type: ignore[misc]
    for server in started:
        server.stop()


def round_trip(server: RuntimeServer, size: int = 300_000) -> None:
    """Ready, then one upload in two chunks, completed and read back byte for byte."""
    data = os.urandom(size)
    with httpx.Client(base_url=server.url, timeout=60) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        upload = client.post(
            "/api/v1/uploads", json={"filename": "a.bin", "size": size, "chunk_size": 256 * 1024}
        ).json()
        chunk = upload["chunk_size"]
        for index in range(upload["chunk_count"]):
            piece = data[index * chunk : (index + 1) * chunk]
            sent = client.put(f"/api/v1/uploads/{upload['id']}/chunks/{index}", content=piece)
            assert sent.status_code == 200, sent.text
        done = client.post(f"/api/v1/uploads/{upload['id']}/complete")
        assert done.status_code == 201, (done.text, server.log.read_text()[-2000:])
        assert done.json()["sha256"] == hashlib.sha256(data).hexdigest()
        content = client.get(f"/api/v1/files/{done.json()['id']}/content")
        assert content.content == data


def test_serves_on_s3(serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    moto = MotoServer(tmp_path / "moto")
    moto.start()
    try:
        server = serve(
            FILEDOCK_STORAGE_URL=f"s3://install-test/files?endpoint={moto.url}",
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_EC2_METADATA_DISABLED="true",
        )
        round_trip(server)
    finally:
        moto.stop()


def test_serves_on_sftp(serve, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    if sshd_path() is None:
        unavailable("OpenSSH's sshd", "it is not installed (`make deps` installs it)")
    sshd = SSHServer(tmp_path / "sshd")
    sshd.start()
    try:
        server = serve(
            FILEDOCK_STORAGE_URL=sshd.url(tmp_path / "remote"),
            FILEDOCK_SFTP_KEY_FILE=str(sshd.user_key),
            FILEDOCK_SFTP_KNOWN_HOSTS=str(sshd.known_hosts),
        )
        round_trip(server)
    finally:
        sshd.stop()


@pytest.mark.parametrize("broker", sorted(BROKERS))
def test_a_worker_runs_jobs_from(  # type: ignore[no-untyped-def]
    broker: str, serve, runtime_bin: Path, tmp_path: Path
) -> None:
    """The server hands the assembly to a `filedock worker` of the runtime install,
    which must import the broker's transport to receive it."""
    env = distributed_env(
        f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}", BROKERS[broker], tmp_path / "data"
    )
    server = serve(**env)
    worker = RuntimeWorker(runtime_bin, env, tmp_path / "worker.log")
    worker.start()
    try:
        round_trip(server)
        assert "ready" in worker.log.read_text()
    finally:
        worker.stop()
