"""`filedock tenants`: quotas set, kept, cleared, listed and shown, on the database alone."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from filedock.cli import app
from filedock.core.principal import Principal
from filedock.settings import Settings
from filedock.wiring import build_services
from tests.realserver import ServerProcess

MiB = 1024**2
GiB = 1024**3
ACME = Principal("acme", "alice", frozenset({"read", "write"}))


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> CliRunner:
    monkeypatch.setenv("FILEDOCK_DATA_DIR", str(tmp_path / "data"))
    if database_url:
        monkeypatch.setenv("FILEDOCK_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return CliRunner(env={"COLUMNS": "200"})


def _json(runner: CliRunner, *args: str) -> Any:
    result = runner.invoke(app, ["tenants", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _stage_upload(size: int) -> None:
    """An unfinished upload of tenant acme, as a server would have it."""

    async def stage() -> None:
        services = await build_services(Settings())
        try:
            await services.uploads.create(ACME, filename="big.mp4", size=size)
        finally:
            await services.close()

    asyncio.run(stage())


@pytest.mark.databases
def test_set_quota_keeps_what_is_left_out_and_usage_counts_staged_bytes(
    runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "data").mkdir()  # only `serve` makes the data folder
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    limits = _json(
        runner,
        "set-quota",
        "acme",
        "--max-bytes",
        "500G",
        "--max-files",
        "100000",
        "--max-file-size",
        "20GiB",
        "--allowed-types",
        "image/*,video/*",
    )
    assert limits == {
        "tenant": "acme",
        "limits": {
            "max_bytes": 500 * GiB,
            "max_files": 100000,
            "max_file_size": 20 * GiB,
            "allowed_types": ["image/*", "video/*"],
        },
    }
    kept = _json(runner, "set-quota", "acme", "--max-files", "none")["limits"]
    assert (kept["max_files"], kept["max_bytes"], kept["allowed_types"]) == (
        None,
        500 * GiB,
        ["image/*", "video/*"],
    )

    _stage_upload(3 * GiB)
    usage = _json(runner, "usage", "acme")
    counted = (usage["tenant"], usage["bytes_used"], usage["staged_bytes"])
    assert counted == ("acme", 3 * GiB, 3 * GiB)
    assert (usage["files"], usage["uploads"], usage["limits"]["max_bytes"]) == (0, 1, 500 * GiB)
    listed = {row["tenant"]: row for row in _json(runner, "list")}
    assert set(listed) == {"acme"}  # only tenants with limits, files, uploads or keys
    assert listed["acme"]["limits"]["max_file_size"] == 20 * GiB

    table = runner.invoke(app, ["tenants", "list"])
    assert table.exit_code == 0 and "acme" in table.stdout and "500.0 GiB" in table.stdout
    cleared = _json(runner, "set-quota", "acme", "--clear", "--max-bytes", "1M")["limits"]
    assert cleared == {
        "max_bytes": 1024**2,
        "max_files": None,
        "max_file_size": None,
        "allowed_types": None,
    }
    shown = runner.invoke(app, ["tenants", "usage"])
    assert shown.exit_code == 0 and "1.0 MiB" in shown.stdout and "3.0 GiB" in shown.stdout


def test_commands_never_create_a_data_folder(runner: CliRunner, tmp_path: Path) -> None:
    for args in (["list"], ["usage", "acme"], ["set-quota", "acme", "--max-files", "1"]):
        result = runner.invoke(app, ["tenants", *args])
        assert result.exit_code == 1
        assert "no database at" in result.stderr and "filedock migrate" in result.stderr
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--max-bytes", "12X"], "expected a size"),
        (["--max-files", "many"], "not a whole number"),
        (["--allowed-types", "images"], "type/subtype"),
        ([], "at least one limit"),
    ],
)
def test_bad_values_are_refused_before_the_database(
    runner: CliRunner, tmp_path: Path, args: list[str], complaint: str
) -> None:
    result = runner.invoke(app, ["tenants", "set-quota", "acme", *args])
    assert result.exit_code == 2
    assert complaint in result.output
    assert not (tmp_path / "data").exists()


@pytest.mark.server
def test_a_quota_set_while_the_server_runs_holds_for_its_next_request(
    server: ServerProcess,
) -> None:
    """The operator's command and a real server process share only the database."""
    env = {**os.environ, "FILEDOCK_DATA_DIR": str(server.data_dir)}

    def tenants(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "filedock", "tenants", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    tenants("set-quota", "default", "--max-bytes", "1M")
    with httpx.Client(base_url=server.url, timeout=30) as http:
        over = http.post("/api/v1/uploads", json={"filename": "a", "size": 2 * MiB})
        assert over.status_code == 413 and over.json()["details"]["limit"] == MiB
        deferred = http.post(
            "/files/", headers={"Tus-Resumable": "1.0.0", "Upload-Defer-Length": "1"}
        )
        assert deferred.status_code == 201
        patch = {
            "Tus-Resumable": "1.0.0",
            "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": "0",
        }
        refused = http.patch(deferred.headers["Location"], headers=patch, content=bytes(2 * MiB))
        assert refused.status_code == 413  # answered over the socket, not a reset connection

        tenants("set-quota", "default", "--max-bytes", "none")
        fits = http.post("/api/v1/uploads", json={"filename": "a", "size": 2 * MiB})
        assert fits.status_code == 201
    usage = json.loads(tenants("usage", "default", "--json"))
    assert (usage["uploads"], usage["staged_bytes"]) == (2, 2 * MiB)
