"""`filedock keys` and the start-up refusal, through the CLI as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from filedock.cli import app


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    return {"FILEDOCK_DATA_DIR": str(tmp_path / "data")}


def test_keys_are_created_listed_and_revoked(env: dict[str, str]) -> None:
    runner = CliRunner()
    made = runner.invoke(
        app,
        [
            "keys",
            "create",
            "--tenant",
            "acme",
            "--user",
            "alice",
            "--scopes",
            "read,write",
            "--expires",
            "90d",
            "--json",
        ],
        env=env,
    )
    assert made.exit_code == 0, made.output
    key = json.loads(made.stdout)
    assert key["key"].startswith("fdk_") and len(key["key"]) > 40
    assert key["scopes"] == "read,write" and key["expires_at"]
    listed = json.loads(runner.invoke(app, ["keys", "list", "--json"], env=env).stdout)
    assert [k["id"] for k in listed] == [key["id"]]
    assert key["key"] not in json.dumps(listed)  # the secret is shown once, never again
    assert runner.invoke(app, ["keys", "revoke", key["id"]], env=env).exit_code == 0
    listed = json.loads(runner.invoke(app, ["keys", "list", "--json"], env=env).stdout)
    assert listed[0]["revoked_at"]
    again = runner.invoke(app, ["keys", "revoke", "nope"], env=env)
    assert again.exit_code == 2 and "No API key" in again.stderr


def test_bad_scopes_and_durations_are_refused_in_one_line(env: dict[str, str]) -> None:
    runner = CliRunner()
    bad = runner.invoke(
        app, ["keys", "create", "--tenant", "t", "--user", "u", "--scopes", "root"], env=env
    )
    assert bad.exit_code == 2 and "scopes must be among" in bad.stderr
    bad = runner.invoke(
        app, ["keys", "create", "--tenant", "t", "--user", "u", "--expires", "soon"], env=env
    )
    assert bad.exit_code == 2


def test_serving_beyond_loopback_without_a_credential_is_refused(env: dict[str, str]) -> None:
    refused = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"], env=env)
    assert refused.exit_code == 2
    assert "filedock keys create" in refused.stderr and "FILEDOCK_AUTH=none" in refused.stderr
