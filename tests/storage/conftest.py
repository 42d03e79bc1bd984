"""Storage fixtures: every backend on a real server, one `backend` fixture over all of them.

S3 runs against moto's server, or against any endpoint given as FILEDOCK_TEST_S3_URL
(s3://BUCKET/PREFIX?endpoint=...; credentials from the usual AWS variables). SFTP runs
against OpenSSH's sshd, started here on a free port; without sshd those tests skip
(and fail in CI, like the database servers).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from filedock.settings import Settings
from filedock.storage.base import Backend
from filedock.storage.local import LocalBackend
from filedock.storage.registry import open_storage
from filedock.storage.s3 import S3Backend
from filedock.storage.sftp import SFTPBackend
from tests.databases import unavailable
from tests.storage.servers import MotoServer, SSHServer, sshd_path

BACKENDS = ["local", "s3", "sftp"]
KiB = 1024
MiB = 1024 * KiB


@pytest.fixture(scope="session")
def s3_base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """s3://BUCKET/PREFIX?endpoint=... of the S3 server the tests use."""
    configured = os.environ.get("FILEDOCK_TEST_S3_URL")
    if configured:
        yield configured
        return
    server = MotoServer(tmp_path_factory.mktemp("moto"))
    with pytest.MonkeyPatch.context() as env:
        for name, value in (
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ):
            env.setenv(name, os.environ.get(name, value))
        server.start()
        try:
            yield f"s3://filedock-test/runs?endpoint={server.url}"
        finally:
            server.stop()


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SSHServer]:
    if sshd_path() is None:
        unavailable("OpenSSH's sshd", "it is not installed (`make deps` installs it)")
    server = SSHServer(tmp_path_factory.mktemp("sshd"))
    server.start()
    yield server
    server.stop()


def with_prefix(s3_url: str, prefix: str) -> str:
    """The same bucket and endpoint, one more path segment: each test gets its own."""
    base, _, query = s3_url.partition("?")
    return f"{base.rstrip('/')}/{prefix}" + (f"?{query}" if query else "")


def storage_settings(
    kind: str, request: pytest.FixtureRequest, tmp: Path, **extra: Any
) -> Settings:
    """Settings for one backend kind, with a fresh place to store in."""
    values: dict[str, Any] = {"data_dir": tmp / "data", "fsync": False}
    if kind == "s3":
        values["storage_url"] = with_prefix(
            request.getfixturevalue("s3_base_url"), uuid.uuid4().hex[:12]
        )
    elif kind == "sftp":
        server: SSHServer = request.getfixturevalue("sshd")
        values["storage_url"] = server.url(tmp / "remote")
        values["sftp_key_file"] = server.user_key
        values["sftp_known_hosts"] = server.known_hosts
    return Settings(_env_file=None, **(values | extra))  # type: ignore[call-arg]


@pytest.fixture(params=BACKENDS)
def backend_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def backend(
    backend_kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Backend]:
    storage = open_storage(storage_settings(backend_kind, request, tmp_path)).backend
    await storage.check()
    yield storage
    await storage.close()


async def leftovers(storage: Backend) -> list[str]:
    """Everything staged and not yet final: must be empty after compose or abort."""
    if isinstance(storage, LocalBackend):
        return sorted(p.name for p in storage.staging.iterdir())
    if isinstance(storage, SFTPBackend):
        names = await storage.pool.run(lambda sftp: sftp.listdir(storage.staging))
        return sorted(str(n) for n in names if n not in (".", ".."))
    assert isinstance(storage, S3Backend)
    client = await storage._client()
    prefix = storage.location.prefix
    uploads = await client.list_multipart_uploads(Bucket=storage.bucket, Prefix=prefix)
    objects = await client.list_objects_v2(Bucket=storage.bucket, Prefix=f"{prefix}staging/")
    return sorted(
        [f"upload:{u['Key']}" for u in uploads.get("Uploads", [])]
        + [f"object:{o['Key']}" for o in objects.get("Contents", [])]
    )


async def stream(data: bytes, piece: int = 64 * KiB) -> AsyncIterator[bytes]:
    """A request body as the server sees it: the bytes in small pieces."""
    for start in range(0, len(data), piece):
        yield data[start : start + piece]
