"""The CLI against a real server with keys: ls, info, mv, share, rm, uploads, usage, and
FILEDOCK_TOKEN / --token sent as a bearer token by every command."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from filedock.cli import app
from filedock.core.keys import KeyService
from filedock.db.engine import create_engine
from filedock.db.keys import KeyStore
from tests.realserver import ServerProcess

pytestmark = pytest.mark.server


def new_key(server: ServerProcess, user: str, scopes: str) -> str:
    """A key made the way `filedock keys create` does, in the server's own database."""

    async def create() -> str:
        engine = create_engine(f"sqlite+aiosqlite:///{server.data_dir / 'filedock.db'}")
        try:
            _, secret = await KeyService(KeyStore(engine)).create(
                tenant="default", user=user, scopes=scopes
            )
        finally:
            await engine.dispose()
        return secret

    return asyncio.run(create())


@pytest.fixture
def run(server: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """`filedock ARGS --server URL`, with FILEDOCK_TOKEN from `token` when given."""
    monkeypatch.setenv("FILEDOCK_CLIENT_STATE", str(tmp_path / "client-state.json"))
    monkeypatch.delenv("FILEDOCK_TOKEN", raising=False)

    def invoke(*args: str, token: str | None = None, code: int = 0) -> Result:
        env = {"COLUMNS": "200", **({"FILEDOCK_TOKEN": token} if token else {})}
        result = CliRunner().invoke(app, [*args, "--server", server.url], env=env)
        assert result.exit_code == code, result.output
        return result

    yield invoke


def test_file_commands_send_the_token_and_show_tables(
    server: ServerProcess, run, tmp_path: Path
) -> None:
    writer = new_key(server, "alice", "read,write")
    source = tmp_path / "report.txt"
    source.write_bytes(b"quarterly numbers\n" * 1000)
    refused = run("upload", str(source), code=1)
    assert "unauthenticated" in refused.output  # a key exists: anonymous access ended
    file_id = run("upload", str(source), "--token", writer).stdout.strip()
    run("upload", str(source), token=writer)  # a second copy, from FILEDOCK_TOKEN

    listed = json.loads(run("ls", "--json", token=writer).stdout)
    assert listed["total"] == 2 and file_id in {f["id"] for f in listed["items"]}
    table = run("ls", token=writer).stdout
    assert file_id in table and "report.txt" in table and "18.0 kB" in table
    assert "2 of 2 file(s)" in table
    assert "0 of 0 file(s)" in run("ls", "zzz", token=writer).stdout

    info = run("info", file_id, token=writer).stdout
    assert hashlib.sha256(source.read_bytes()).hexdigest() in info and "text/plain" in info
    assert "renamed" in run("mv", file_id, "final.txt", token=writer).stdout
    assert json.loads(run("info", file_id, "--json", token=writer).stdout)["name"] == "final.txt"

    shared = run("share", file_id, "--expires", "1h", "--max-downloads", "1", token=writer)
    url = shared.stdout.strip()
    assert url.startswith(f"{server.url}/s/") and "1 download(s)" in shared.stderr
    first = httpx.get(url)  # no key: the link is the credential
    assert first.status_code == 200 and first.content == source.read_bytes()
    assert 'filename="final.txt"' in first.headers["content-disposition"]
    assert httpx.get(url).status_code == 410

    assert f"deleted {file_id}" in run("rm", file_id, token=writer).stdout
    missing = run("info", file_id, token=writer, code=1)
    assert "file_not_found" in missing.output


def test_a_read_only_key_lists_but_cannot_share_or_delete(
    server: ServerProcess, run, tmp_path: Path
) -> None:
    writer, reader = new_key(server, "alice", "read,write"), new_key(server, "bob", "read")
    source = tmp_path / "a.bin"
    source.write_bytes(b"x" * 100)
    file_id = run("upload", str(source), token=writer).stdout.strip()
    assert file_id in run("ls", token=reader).stdout
    for command in (("share", file_id), ("rm", file_id), ("mv", file_id, "b.bin")):
        assert "insufficient_scope" in run(*command, token=reader, code=1).output
    usage = run("usage", token=reader).stdout  # reading usage needs only `read`
    assert "bytes_used" in usage and "100 (100 bytes)" in usage


def test_uploads_lists_my_unfinished_uploads(server: ServerProcess, run) -> None:
    alice, bob = new_key(server, "alice", "read,write"), new_key(server, "bob", "read,write")
    ids = {}
    for user, key in (("alice", alice), ("bob", bob)):
        response = httpx.post(
            f"{server.url}/api/v1/uploads",
            json={"filename": f"{user}-movie.mp4", "size": 5_000_000},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 201, response.text
        ids[user] = response.json()["id"]
    mine = json.loads(run("uploads", "--json", token=alice).stdout)["items"]
    assert [u["id"] for u in mine] == [ids["alice"]]
    table = run("uploads", token=alice).stdout
    assert ids["alice"] in table and "alice-movie.mp4" in table and "5.0 MB" in table
    assert ids["bob"] not in table and "1 unfinished upload(s)" in table


def test_upload_to_a_path_skips_the_same_bytes_and_obeys_the_path_rules(
    server: ServerProcess, run, tmp_path: Path
) -> None:
    key = new_key(server, "alice", "read,write")
    source, other = tmp_path / "clip.mov", tmp_path / "other.mov"
    source.write_bytes(b"frames" * 5000)
    other.write_bytes(b"other frames" * 100)
    file_id = run("upload", str(source), "--to", "/videos/clip.mov", token=key).stdout.strip()
    again = run("upload", str(source), "--to", "/videos/clip.mov", token=key)
    assert again.stdout.strip() == file_id and "nothing sent" in again.stderr
    taken = run("upload", str(other), "--to", "/videos/clip.mov", token=key, code=1)
    assert "path_exists" in taken.output
    kept = run("upload", str(other), "--to", "/videos/clip.mov", "--rename", token=key)
    renamed = json.loads(run("info", kept.stdout.strip(), "--json", token=key).stdout)
    assert renamed["path"] == "/videos/clip (1).mov"
    replaced = run("upload", str(other), "--to", "/videos/clip.mov", "--overwrite", token=key)
    by_path = json.loads(run("info", "/videos/clip.mov", "--json", token=key).stdout)
    assert by_path["id"] == replaced.stdout.strip() and by_path["size"] == 1200
    run("mv", "/videos/clip (1).mov", "/archive/clip.mov", token=key)
    moved = json.loads(run("info", "/archive/clip.mov", "--json", token=key).stdout)
    assert moved["id"] == renamed["id"] and moved["name"] == "clip.mov"
