"""The admin view and the multi-user answers of the upload page, in headless Chromium
against a real server with API keys: another client's upload moves on the admin's
screen, a path someone else is uploading to says who, the same user's unfinished upload
is continued with only its missing chunks, and a share link made in the browser
downloads the file without a key."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.realserver import ServerProcess
from tests.web.conftest import MiB, Visit, filedock, new_key, received_bytes, shoot, sign_in

pytestmark = [pytest.mark.server, pytest.mark.slow]

LAST_JOB = "window.filedockUploader.jobs.at(-1)"
# The browser's own notes of answers the pages expect: 401 before the key is entered,
# 409 path_busy for the other user's path, 422 for a Retry of a broken upload.
EXPECTED_ERRORS = ("status of 401", "status of 409", "status of 422")


class SlowClient(threading.Thread):
    """Another client with its own key: sends a file one chunk at a time, with pauses."""

    def __init__(self, server: ServerProcess, key: str, path: str, chunks: int) -> None:
        super().__init__(daemon=True)
        self.api = f"{server.url}/api/v1/uploads"
        self.headers = {"Authorization": f"Bearer {key}"}
        spec = {"path": path, "size": chunks * MiB, "chunk_size": MiB}
        created = httpx.post(self.api, json=spec, headers=self.headers, timeout=10)
        assert created.status_code == 201, created.text
        self.upload_id = created.json()["id"]
        self.chunks = chunks
        self.stopped = threading.Event()

    def run(self) -> None:
        for index in range(self.chunks):
            if self.stopped.wait(0.6):
                return
            url = f"{self.api}/{self.upload_id}/chunks/{index}"
            httpx.put(url, content=b"x" * MiB, headers=self.headers, timeout=30)

    def stop(self) -> None:
        self.stopped.set()
        self.join(30)


def failed_upload(server: ServerProcess, key: str, path: str) -> str:
    """An upload whose declared SHA-256 does not match its bytes: its assembly fails.
    Answers the upload's URL."""
    headers = {"Authorization": f"Bearer {key}"}
    spec = {"path": path, "size": 5, "sha256": "0" * 64}
    created = httpx.post(f"{server.url}/api/v1/uploads", json=spec, headers=headers, timeout=10)
    url = str(created.json()["urls"]["self"])
    assert httpx.put(f"{url}/chunks/0", content=b"12345", headers=headers).is_success
    assert httpx.post(f"{url}/complete", headers=headers, timeout=30).status_code == 422
    assert httpx.get(url, headers=headers).json()["state"] == "failed"
    return url


def unexpected(visit: Visit) -> list[str]:
    return [e for e in visit.errors if not any(x in e for x in EXPECTED_ERRORS)]


def test_admin_sees_another_users_upload_move_with_usage_against_quota(
    visit: Visit, web_server: ServerProcess
) -> None:
    boss = new_key(web_server, "boss", "read,write,admin")
    alice = new_key(web_server, "alice", "read,write")
    filedock(web_server, "tenants", "set-quota", "default", "--max-bytes", "1GiB")
    broken = failed_upload(web_server, alice, "/broken.bin")
    client = SlowClient(web_server, alice, "/camera/day-1.mov", chunks=60)
    client.start()
    try:
        page = visit.page()
        page.goto("/admin")
        sign_in(page, boss)
        row = page.locator("#active tbody tr", has_text="/camera/day-1.mov")
        expect(row.locator("td[data-label=Who]")).to_have_text("alice")
        bar = page.get_by_label("Progress of /camera/day-1.mov")
        value = "el => el.value"
        expect(bar).to_have_attribute("max", str(60 * MiB))
        page.wait_for_function("() => document.querySelector('#active progress')?.value > 0")
        first = bar.evaluate(value)
        page.wait_for_function(
            "v => document.querySelector('#active progress')?.value > v", arg=first
        )
        second = bar.evaluate(value)
        assert 0 < first < second <= 60 * MiB
        expect(row.locator("td[data-label=Speed]")).to_have_text(re.compile(r"^[\d.]+ [KM]iB/s$"))
        expect(page.locator("#uploaders")).to_contain_text("alice: 1 upload")
        storage = page.locator("#usage .card", has_text="storage of default")
        expect(storage).to_contain_text("of 1.0 GiB")
        # The failure, its reason and a Retry that asks the server to assemble it again.
        failure = page.locator("#failed tbody tr", has_text="/broken.bin")
        expect(failure.locator("td[data-label=Who]")).to_have_text("alice")
        expect(failure.locator("td[data-label=Reason]")).to_contain_text("sha256")
        failure.get_by_role("button", name="Retry /broken.bin").click()
        expect(page.locator("#announce")).to_contain_text("Retry of /broken.bin failed: ")
        expect(failure.get_by_role("button", name="Retry /broken.bin")).to_be_enabled()
        assert httpx.get(broken, headers={"Authorization": f"Bearer {boss}"}).json()["state"] == (
            "failed"
        )
        shoot(page, "admin.png")
    finally:
        client.stop()
    assert visit.foreign() == []
    assert unexpected(visit) == []


def test_path_busy_then_resumed_with_only_missing_chunks_then_a_share_link(
    visit: Visit, web_server: ServerProcess, tmp_path: Path
) -> None:
    alice = new_key(web_server, "alice", "read,write")
    bob = new_key(web_server, "bob", "read,write")
    body = bytes(range(256)) * (3 * MiB // 256) + b"tail!"
    (tmp_path / "report.bin").write_bytes(body)
    # Alice's other client began the upload and sent its first chunk only.
    api = f"{web_server.url}/api/v1/uploads"
    as_alice = {"Authorization": f"Bearer {alice}"}
    spec = {"path": "/report.bin", "size": len(body), "chunk_size": MiB}
    upload = httpx.post(api, json=spec, headers=as_alice, timeout=10).json()
    chunk = httpx.put(f"{api}/{upload['id']}/chunks/0", content=body[:MiB], headers=as_alice)
    assert chunk.is_success

    page = visit.page()
    page.goto("/")
    sign_in(page, bob)
    page.set_input_files("#pick-files", tmp_path / "report.bin")
    expect(page.locator(".job", has_text="/report.bin")).to_contain_text(
        re.compile(r"alice is uploading to this path since \S")
    )
    assert page.evaluate(f"{LAST_JOB}.state") == "failed"

    # Alice, in the browser, chooses the same file: the server answers 200 resumed with
    # her upload, and only the three missing chunks are sent.
    sign_in(page, alice)
    page.set_input_files("#pick-files", tmp_path / "report.bin")
    page.wait_for_function(f"() => {LAST_JOB}.state === 'done'", timeout=60_000)
    assert page.evaluate(f"{LAST_JOB}.resumedFrom") == MiB
    assert received_bytes(web_server) == len(body)
    listing = httpx.get(f"{web_server.url}/api/v1/files", headers=as_alice).json()["items"]
    assert [(f["path"], f["size"], f["owner"]) for f in listing] == [
        ("/report.bin", len(body), "alice")
    ]
    row = page.locator("#files tbody tr", has_text="report.bin")
    expect(row.locator("td[data-label=Uploader]")).to_have_text("alice")

    # A share link from the file browser, copied, downloads the bytes without a key.
    visit.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Share report.bin").click()
    page.get_by_role("button", name="Create link").click()
    link = page.get_by_label("Link", exact=True)
    expect(link).to_have_value(re.compile(rf"^{re.escape(web_server.url)}/s/\S+$"))
    page.get_by_role("button", name="Copy", exact=True).click()
    expect(page.locator("#announce")).to_have_text("Link copied.")
    url = link.input_value()
    assert page.evaluate("navigator.clipboard.readText()") == url
    download = httpx.get(url, timeout=30)
    assert download.status_code == 200
    assert download.content == body
    assert "report.bin" in download.headers["content-disposition"]
    assert visit.foreign() == []
    assert unexpected(visit) == []
