"""The upload page in headless Chromium against a real server: files and folders arrive
byte-exact, pause/resume, "keep both" at a conflict, and a reload in the middle of a
large file resumes it sending only what the server is missing."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.realserver import ServerProcess
from tests.web.conftest import MiB, Network, Visit, received_bytes, shoot

pytestmark = [pytest.mark.server, pytest.mark.slow]

UPLOADER = "window.filedockUploader"
ALL_DONE = f"() => {UPLOADER}.jobs.filter(j => j.state === 'done').length === %d"
MINUTES = 60_000

# Files made inside the page (random bytes), dropped on the drop zone in one DataTransfer;
# answers each file's SHA-256 as the browser computed it from the bytes it dropped.
DROP_GENERATED = """async (sizes) => {
  const hex = (buf) =>
    [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const dt = new DataTransfer();
  const digests = {};
  for (const [name, size] of sizes) {
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
    digests[name] = hex(await crypto.subtle.digest("SHA-256", bytes));
    dt.items.add(new File([bytes], name, { type: "application/octet-stream" }));
  }
  const zone = document.getElementById("dropzone");
  for (const type of ["dragover", "drop"]) {
    zone.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
  }
  return digests;
}"""


def files_by_path(server: ServerProcess) -> dict[str, dict[str, object]]:
    listing = httpx.get(f"{server.url}/api/v1/files", params={"limit": 1000}, timeout=10).json()
    return {
        item["path"] or item["metadata"].get("path", "/" + item["name"]): item
        for item in listing["items"]
    }


def download_sha256(server: ServerProcess, file_id: object) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    url = f"{server.url}/api/v1/files/{file_id}/content"
    with httpx.stream("GET", url, timeout=60) as response:
        assert response.status_code == 200
        for block in response.iter_bytes(MiB):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def another_client_uploads(server: ServerProcess, name: str, body: bytes) -> None:
    api = f"{server.url}/api/v1/uploads"
    upload = httpx.post(api, json={"filename": name, "size": len(body)}, timeout=10).json()
    assert httpx.put(f"{api}/{upload['id']}/chunks/0", content=body, timeout=10).is_success
    assert httpx.post(f"{api}/{upload['id']}/complete", timeout=30).status_code == 201


def random_file(path: Path, size: int) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for start in range(0, size, 8 * MiB):
            block = os.urandom(min(8 * MiB, size - start))
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


def job(page: Page, path: str, field: str) -> object:
    return page.evaluate(f"{UPLOADER}.jobs.find(j => j.path === {path!r})?.{field}")


def test_three_files_dropped_together_arrive_byte_exact(
    visit: Visit, web_server: ServerProcess
) -> None:
    page = visit.page()
    page.goto("/")
    Network(page).emulate(upload_bps=60 * MiB)  # the screenshot catches big.bin on its way
    sizes = [["notes.txt", 10_000], ["photo.jpg", 3 * MiB + 17], ["big.bin", 200 * MiB]]
    digests = page.evaluate(DROP_GENERATED, sizes)

    page.wait_for_function(
        f"() => {UPLOADER}.jobs.find(j => j.path === '/big.bin')?.sent > 50 * 1024 * 1024",
        timeout=2 * MINUTES,
    )
    expect(page.get_by_label("Progress of /big.bin")).to_be_visible()
    shoot(page, "upload-page.png")
    page.wait_for_function(ALL_DONE % 3, timeout=5 * MINUTES)

    stored = files_by_path(web_server)
    assert sorted(stored) == ["/big.bin", "/notes.txt", "/photo.jpg"]
    for name, size in sizes:
        record = stored[f"/{name}"]
        assert download_sha256(web_server, record["id"]) == (size, digests[name])
        assert record["sha256"] == digests[name]
    # The file browser shows them without a reload...
    for name, _ in sizes:
        expect(page.get_by_role("cell", name=name, exact=True)).to_be_visible()
    # ...and a file another client uploads, too.
    another_client_uploads(web_server, "from-elsewhere.txt", b"hello from another client")
    expect(page.get_by_role("cell", name="from-elsewhere.txt", exact=True)).to_be_visible(
        timeout=15_000
    )

    # Rename through the dialog, then delete with confirmation.
    page.get_by_role("button", name="Rename or move notes.txt").click()
    page.get_by_label("New path").fill("/docs/notes-2.txt")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("button", name="Open folder docs")).to_be_visible()
    assert "/docs/notes-2.txt" in files_by_path(web_server)
    page.get_by_role("button", name="Delete photo.jpg").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("cell", name="photo.jpg", exact=True)).to_be_hidden()
    assert "/photo.jpg" not in files_by_path(web_server)
    assert visit.foreign() == []
    assert visit.errors == []


def test_folder_paths_pause_resume_network_loss_and_keep_both(
    visit: Visit, web_server: ServerProcess, tmp_path: Path
) -> None:
    album = tmp_path / "album"
    clip_sha = random_file(album / "raw" / "clip.bin", 40 * MiB)
    notes_sha = random_file(album / "readme.txt", 5000)
    page = visit.page()
    page.goto("/")
    network = Network(page)
    network.emulate(upload_bps=8 * MiB)
    page.set_input_files("#pick-folder", album)

    clip = f"{UPLOADER}.jobs.find(j => j.path === '/album/raw/clip.bin')"
    page.wait_for_function(f"() => {clip}?.confirmed >= {8 * MiB}", timeout=MINUTES)
    page.get_by_role("button", name="Pause /album/raw/clip.bin").click()
    expect(page.get_by_role("button", name="Resume /album/raw/clip.bin")).to_be_visible()
    upload_url = f"{web_server.url}/api/v1/uploads/{job(page, '/album/raw/clip.bin', 'uploadId')}"
    paused_at = httpx.get(upload_url, timeout=10).json()["bytes_received"]
    page.wait_for_timeout(1500)
    assert httpx.get(upload_url, timeout=10).json()["bytes_received"] == paused_at < 40 * MiB

    # Another file, cancelled on its way: the server drops its upload.
    random_file(tmp_path / "spare.bin", 20 * MiB)
    page.set_input_files("#pick-files", tmp_path / "spare.bin")
    spare = f"{UPLOADER}.jobs.find(j => j.path === '/spare.bin')"
    page.wait_for_function(f"() => {spare}?.confirmed > 0", timeout=MINUTES)
    spare_url = f"{web_server.url}/api/v1/uploads/{job(page, '/spare.bin', 'uploadId')}"
    page.get_by_role("button", name="Cancel /spare.bin").click()
    expect(page.locator(".job", has_text="/spare.bin")).to_contain_text("Cancelled")
    expect(page.locator(".job", has_text="/album/raw/clip.bin")).to_contain_text("Paused")
    gone = httpx.get(spare_url, timeout=10)
    assert gone.status_code in (404, 410) or gone.json()["state"] == "aborted"

    page.get_by_role("button", name="Resume /album/raw/clip.bin").click()
    page.wait_for_function(f"() => {clip}?.state === 'uploading'", timeout=MINUTES)
    # The network drops: shown and retried, not a failure; back online, it carries on.
    network.emulate(offline=True)
    row = page.locator(".job", has_text="/album/raw/clip.bin")
    expect(row).to_contain_text("Connection lost; retrying")
    network.emulate(offline=False, upload_bps=-1)
    page.wait_for_function(ALL_DONE % 2, timeout=2 * MINUTES)
    stored = files_by_path(web_server)
    assert download_sha256(web_server, stored["/album/raw/clip.bin"]["id"]) == (40 * MiB, clip_sha)
    assert download_sha256(web_server, stored["/album/readme.txt"]["id"]) == (5000, notes_sha)

    # The browser shows the folder; inside it, the file and the subfolder.
    page.get_by_role("button", name="Open folder album").click()
    expect(page.get_by_role("cell", name="readme.txt", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Open folder raw")).to_be_visible()

    # The same folder again: both paths are taken; "keep both" for all of them.
    page.set_input_files("#pick-folder", album)
    dialog = page.get_by_role("dialog", name="A file is already there")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Do the same for the other files").check()
    dialog.get_by_role("button", name="Keep both").click()
    page.wait_for_function(ALL_DONE % 4, timeout=2 * MINUTES)
    stored = files_by_path(web_server)
    assert sorted(stored) == [
        "/album/raw/clip (1).bin",
        "/album/raw/clip.bin",
        "/album/readme (1).txt",
        "/album/readme.txt",
    ]
    assert download_sha256(web_server, stored["/album/readme (1).txt"]["id"]) == (5000, notes_sha)
    assert visit.foreign() == []
    # The only errors: the browser's own notes of the requests that failed while offline,
    # and of the two creations the server answered 409 path_exists (the dialog's cue).
    conflicts = [e for e in visit.errors if "status of 409" in e]
    assert len(conflicts) == 2
    expected = ("ERR_INTERNET_DISCONNECTED", "status of 409")
    assert [e for e in visit.errors if not any(x in e for x in expected)] == []


def test_reload_mid_file_resumes_with_only_the_missing_chunks(
    visit: Visit, web_server: ServerProcess, tmp_path: Path
) -> None:
    size = 200 * MiB
    big = tmp_path / "big.bin"
    sha = random_file(big, size)
    page = visit.page()
    page.goto("/")
    Network(page).emulate(upload_bps=40 * MiB)
    page.set_input_files("#pick-files", big)
    page.wait_for_function(
        f"() => {UPLOADER}.jobs[0]?.confirmed >= {size // 3}", timeout=2 * MINUTES
    )

    page.reload()
    unfinished = page.locator("#unfinished")
    expect(unfinished).to_contain_text("/big.bin: ")
    expect(unfinished).to_contain_text("on the server")
    expect(
        unfinished.get_by_role("button", name="Choose /big.bin again to continue")
    ).to_be_visible()
    # Meanwhile the admin view counts the unfinished upload (from /metrics) and lists it.
    admin = visit.page()
    admin.goto("/admin")
    expect(admin.locator(".card", has_text="uploads receiving")).to_contain_text("1")
    expect(admin.get_by_label("Progress of /big.bin")).to_be_visible()
    admin.close()
    page.set_input_files("#pick-files", big)
    page.wait_for_function(f"() => {UPLOADER}.jobs[0]?.state === 'uploading'", timeout=MINUTES)
    resumed_from = job(page, "/big.bin", "confirmed")
    page.wait_for_function(ALL_DONE % 1, timeout=5 * MINUTES)

    assert isinstance(resumed_from, int) and resumed_from >= size // 3
    assert download_sha256(web_server, files_by_path(web_server)["/big.bin"]["id"]) == (size, sha)
    total = received_bytes(web_server)
    print(f"server received {total} bytes for a {size}-byte file across a reload")
    assert size <= total < 2 * size
    expect(unfinished).to_be_hidden()
