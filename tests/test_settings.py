"""Settings that explain themselves, seen from the command line as an operator runs it:
one line per invalid setting and exit code 2, sizes and durations as the README writes
them, a warning for a misspelt variable, no stray data folder, a start banner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from filedock.observability import banner
from filedock.settings import Settings
from tests.realserver import ServerProcess, free_port

MiB = 1024 * 1024


def filedock(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`filedock ARGS` in `cwd`, with no FILEDOCK_* setting but the given ones."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FILEDOCK_")}
    return subprocess.run(
        [sys.executable, "-m", "filedock", *args],
        cwd=cwd,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


INVALID = [
    ("FILEDOCK_STORAGE_URL", "bogus://x", "expected file:///PATH, s3://BUCKET/PREFIX"),
    ("FILEDOCK_DATABASE_URL", "nosuchdb://x", "expected sqlite:///PATH, mysql://"),
    ("FILEDOCK_PORT", "abc", "expected a valid integer"),
    ("FILEDOCK_LOG_LEVEL", "verbose", "expected one of DEBUG, INFO, WARNING"),
    ("FILEDOCK_MAX_CHUNK_SIZE", "64 parsecs", "expected a size such as 64M, 64MiB, 1G"),
    ("FILEDOCK_UPLOAD_TTL_SECONDS", "forever", "expected a duration such as 30s, 15m"),
    ("FILEDOCK_FSYNC", "perhaps", "expected a valid boolean"),
    ("FILEDOCK_BROKER_URL", "http://me:hunter2@mq", "expected amqp://"),
    ("FILEDOCK_SHUTDOWN_TIMEOUT_SECONDS", "-5s", "expected a duration"),
]


def test_every_invalid_setting_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """All at once (one process): one line each, naming variable, value and expectation."""
    result = filedock(tmp_path, "serve", **{name: value for name, value, _ in INVALID})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == len(INVALID), result.stderr
    for name, value, expected in INVALID:
        shown = value.replace(":hunter2@", ":***@")  # passwords are never printed
        line = next((x for x in lines if x.startswith(f"error: {name}={shown}: ")), None)
        assert line is not None and expected in line, (name, result.stderr)
    assert "hunter2" not in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("FILEDOCK_DATABASE_URL", "sqlite:////no/such/folder/x.db", "/no/such/folder does not"),
        ("FILEDOCK_PORT", "70000", "expected less than or equal to 65535"),
    ],
)
def test_an_invalid_setting_is_one_line_and_exit_2(
    tmp_path: Path, variable: str, value: str, expected: str
) -> None:
    result = filedock(tmp_path, "serve", **{variable: value})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {variable}={value}: "), lines[0]
    assert expected in lines[0]
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("command", "env"),
    [
        (["cleanup"], {}),
        (["migrate"], {}),
        (["worker"], {"FILEDOCK_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//"}),
    ],
)
def test_only_serve_creates_the_data_folder(
    tmp_path: Path, command: list[str], env: dict[str, str]
) -> None:
    result = filedock(tmp_path, *command, **env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: FILEDOCK_DATA_DIR={tmp_path / 'data'}: ")
    assert "`filedock serve` creates it" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_misspelt_variable_is_named_with_the_nearest_setting(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    result = filedock(tmp_path, "migrate", FILEDOCK_STORGE_URL="s3://bucket")
    assert result.returncode == 0, result.stderr
    assert (
        "warning: FILEDOCK_STORGE_URL is not a filedock setting; "
        "did you mean FILEDOCK_STORAGE_URL?" in result.stderr
    )


@pytest.mark.parametrize(
    ("text", "size"),
    [("64M", 64 * MiB), ("64MiB", 64 * MiB), ("64 MB", 64 * MiB), ("1G", 1024 * MiB),
     ("1.5K", 1536), ("67108864", 64 * MiB)],
)  # fmt: skip
def test_sizes_read_as_written(text: str, size: int) -> None:
    assert Settings(_env_file=None, max_chunk_size=text).max_chunk_size == size  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("15m", 900), ("24h", 86400), ("2d", 172800), ("90", 90)]
)
def test_durations_read_as_written(text: str, seconds: int) -> None:
    settings = Settings(_env_file=None, upload_ttl_seconds=text, complete_wait_seconds=text)  # type: ignore[call-arg]
    assert settings.upload_ttl_seconds == seconds
    assert settings.complete_wait_seconds == seconds


@pytest.mark.server
def test_a_server_started_with_written_units_and_its_banner(tmp_path: Path) -> None:
    """One real server: sizes and durations from the environment take effect, the banner
    says where it answers and on what, and the client's --chunk-size reads units too."""
    server = ServerProcess(
        tmp_path / "data",
        FILEDOCK_LOG_LEVEL="INFO",
        FILEDOCK_MAX_CHUNK_SIZE="1M",
        FILEDOCK_UPLOAD_TTL_SECONDS="15m",
    )
    server.start()
    try:
        created = httpx.post(
            f"{server.url}/api/v1/uploads",
            json={"filename": "a.bin", "size": 8 * MiB, "chunk_size": 4 * MiB},
        ).json()
        assert created["chunk_size"] == MiB  # clamped to FILEDOCK_MAX_CHUNK_SIZE=1M
        expires = datetime.fromisoformat(created["expires_at"].replace("Z", "+00:00"))
        left = expires - datetime.now(UTC)
        assert timedelta(minutes=14) < left <= timedelta(minutes=15)

        source = tmp_path / "three.bin"
        source.write_bytes(os.urandom(3 * 1024 * 1024 - 5))
        sent = filedock(
            tmp_path, "upload", str(source), "--chunk-size", "512K", "--json",
            FILEDOCK_SERVER=server.url,
            FILEDOCK_CLIENT_STATE=str(tmp_path / "state.json"),
        )  # fmt: skip
        assert sent.returncode == 0, sent.stderr
        assert json.loads(sent.stdout)["upload"]["chunk_count"] == 6
    finally:
        server.stop()
    log = server.log.read_text()
    for line in (
        f"url       {server.url}",
        f"docs      {server.url}/docs",
        f"data      {tmp_path / 'data'}",
        f"database  sqlite+aiosqlite:///{tmp_path / 'data' / 'filedock.db'}",
        f"storage   file://{tmp_path / 'data' / 'storage'}",
        "jobs      in-process",
        "redis     off (one process)",
        "auth      auto (anonymous on loopback until a key exists)",
    ):
        assert line in log, log


def test_the_banner_masks_passwords(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path,
        database_url="postgresql://filedock:db-secret@db/filedock",
        storage_url="sftp://me:ssh-secret@host/srv",
        broker_url="amqp://guest:mq-secret@mq:5672//",
        redis_url="redis://:redis-secret@cache:6379/0",
    )
    shown = banner(settings, "http://127.0.0.1:8000")
    assert shown["database"] == "postgresql://filedock:***@db/filedock"
    assert shown["storage"] == "sftp://me:***@host/srv"
    assert shown["jobs"] == "amqp://guest:***@mq:5672//"
    assert shown["redis"] == "redis://:***@cache:6379/0"
    assert "secret" not in json.dumps(shown)


def test_an_unreachable_storage_stops_serve_with_one_line(tmp_path: Path) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    result = filedock(
        tmp_path,
        "serve",
        FILEDOCK_STORAGE_URL=f"s3://some-bucket/x?endpoint={nobody}",
        AWS_ACCESS_KEY_ID="x",
        AWS_SECRET_ACCESS_KEY="y",
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot start: "), result.stderr
    assert nobody in lines[0]


def test_a_misspelt_name_in_dot_env_is_named_too(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / ".env").write_text("FILEDOCK_MAX_CHUNK_SIZ=8M\n")
    result = filedock(tmp_path, "migrate")
    assert result.returncode == 0, result.stderr
    assert "did you mean FILEDOCK_MAX_CHUNK_SIZE?" in result.stderr
