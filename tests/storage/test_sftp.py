"""What only the SFTP backend does: its URL, host-key checking, reconnecting after the
remote end drops, and where the bytes sit on the remote host."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from filedock.core.models import Part
from filedock.errors import Code, FiledockError
from filedock.settings import Settings
from filedock.storage.registry import open_storage
from filedock.storage.sftp import SFTPBackend
from filedock.storage.sftp_pool import SFTPTarget
from tests.storage.conftest import storage_settings, stream
from tests.storage.contract import keys, read_all
from tests.storage.servers import SSHServer


@pytest.fixture
async def sftp(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SFTPBackend]:
    storage = open_storage(storage_settings("sftp", request, tmp_path)).backend
    assert isinstance(storage, SFTPBackend)
    await storage.check()
    yield storage
    await storage.close()


def test_url(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, sftp_password="from-settings")  # type: ignore[call-arg]
    target = SFTPTarget.parse("sftp://ann:p%40ss@files.example:2222/srv/dock/", settings)
    assert (target.username, target.password, target.host, target.port, target.root) == (
        "ann",
        "p@ss",
        "files.example",
        2222,
        "/srv/dock",
    )
    home = SFTPTarget.parse("sftp://ann@files.example/~/dock", settings)
    assert (home.port, home.root, home.password) == (22, "dock", "from-settings")
    assert home.describe() == "sftp://ann@files.example:22/dock"


async def _check(settings: Settings) -> None:
    storage = open_storage(settings).backend
    try:
        await storage.check()
    finally:
        await storage.close()


async def test_unknown_host_keys_are_refused_unless_configured(
    sshd: SSHServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    settings = storage_settings("sftp", request, tmp_path, sftp_known_hosts=empty)
    with pytest.raises(FiledockError) as refused:
        await _check(settings)
    assert refused.value.code == Code.STORAGE_UNAVAILABLE
    assert "host key" in refused.value.message.lower()
    await _check(settings.model_copy(update={"sftp_accept_unknown_hosts": True}))


async def test_a_changed_host_key_is_refused_even_when_accepting_unknown(
    sshd: SSHServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    public = " ".join(Path(f"{other}.pub").read_text().split()[:2])
    lying = tmp_path / "known_hosts"
    lying.write_text(f"[127.0.0.1]:{sshd.port} {public}\n")
    settings = storage_settings(
        "sftp", request, tmp_path, sftp_known_hosts=lying, sftp_accept_unknown_hosts=True
    )
    with pytest.raises(FiledockError) as refused:
        await _check(settings)
    assert "host key" in refused.value.message.lower()


def _kill_sessions(sshd: SSHServer) -> int:
    """SIGKILL the per-connection processes of our sshd: the remote end drops."""
    assert sshd.process is not None
    killed = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # the process ended meanwhile
        if parent == sshd.process.pid:
            os.kill(int(stat.parent.name), signal.SIGKILL)
            killed += 1
    return killed


async def test_reconnects_after_the_remote_end_drops(sftp: SFTPBackend, sshd: SSHServer) -> None:
    data = os.urandom(300_000)
    key, dest = keys()
    await sftp.write_part(key, 0, 0, stream(data[:100_000]))
    assert _kill_sessions(sshd) >= 1
    await asyncio.sleep(0.2)
    await sftp.write_part(key, 1, 100_000, stream(data[100_000:]))
    parts = [Part(0, 0, 100_000), Part(1, 100_000, 200_000)]
    assert _kill_sessions(sshd) >= 1
    info = await sftp.compose(key, parts, dest)
    assert _kill_sessions(sshd) >= 1
    assert await read_all(sftp, info.key) == data


async def test_bytes_sit_in_one_staging_file_then_move(sftp: SFTPBackend, tmp_path: Path) -> None:
    remote = Path(sftp.target.root)  # sshd runs here, so the remote root is local too
    data = os.urandom(100_000)
    key, dest = keys()
    await sftp.write_part(key, 1, 60_000, stream(data[60_000:]))
    await sftp.write_part(key, 0, 0, stream(data[:60_000]))
    staged = list((remote / "staging").iterdir())
    assert [p.read_bytes() for p in staged] == [data]
    info = await sftp.compose(key, [Part(0, 0, 60_000), Part(1, 60_000, 40_000)], dest)
    assert list((remote / "staging").iterdir()) == []
    assert (remote / "objects" / info.key).read_bytes() == data
