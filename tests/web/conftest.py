"""Headless Chromium (Debian's package, driven by Playwright) against a real server.

No browser is downloaded: Playwright only drives /usr/bin/chromium (`make deps` installs
it). Without it these tests skip, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.databases import in_ci
from tests.realserver import ServerProcess

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MiB = 1024 * 1024
# Two cores shared with other work: Swagger UI alone can take seconds to render.
expect.set_options(timeout=30_000)
# Set to a folder (docs/img) to refresh the README's screenshots while the tests run.
SCREENSHOTS = os.environ.get("FILEDOCK_SCREENSHOTS")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: run `make deps` (Debian package chromium)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path / "data", FILEDOCK_FSYNC="false")
    process.start()
    yield process
    process.stop()


class Visit:
    """A browser context on the server that records every request its pages make."""

    def __init__(self, context: BrowserContext, origin: str) -> None:
        self.context = context
        self.origin = origin
        self.requests: list[str] = []
        self.errors: list[str] = []
        context.on("request", lambda request: self.requests.append(request.url))

    def page(self) -> Page:
        page = self.context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on(
            "console",
            lambda message: self.errors.append(message.text) if message.type == "error" else None,
        )
        return page

    def foreign(self) -> list[str]:
        """Every request that went anywhere but the server's own origin."""
        assert self.requests, "the pages made no request at all"
        return [url for url in self.requests if not url.startswith(self.origin + "/")]


@pytest.fixture
def visit(browser: Browser, web_server: ServerProcess) -> Iterator[Visit]:
    context = browser.new_context(base_url=web_server.url, viewport={"width": 1280, "height": 900})
    yield Visit(context, web_server.url)
    context.close()


def received_bytes(server: ServerProcess) -> int:
    """Upload bytes the server durably recorded since it started (its own counter)."""
    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    match = re.search(r"^filedock_received_bytes_total (\S+)$", text, re.MULTILINE)
    assert match, "no filedock_received_bytes_total in /metrics"
    return int(float(match.group(1)))


class Network:
    """Chromium's network emulation for one page: cap its upload speed (so a test can act
    while a file is on its way) or take it offline. One CDP session does both, since each
    call replaces the page's whole emulated condition."""

    def __init__(self, page: Page) -> None:
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.upload_bps = -1

    def emulate(self, *, offline: bool = False, upload_bps: int | None = None) -> None:
        if upload_bps is not None:
            self.upload_bps = upload_bps
        self.cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": offline,
                "latency": 0,
                "downloadThroughput": -1,
                "uploadThroughput": self.upload_bps,
            },
        )


def shoot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / name), full_page=True)


def filedock(server: ServerProcess, *args: str) -> str:
    """`filedock ARGS` as an operator runs it, on the server's own database."""
    done = subprocess.run(
        [sys.executable, "-m", "filedock", *args],
        env=server.env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def new_key(server: ServerProcess, user: str, scopes: str) -> str:
    """An API key of tenant "default", made with `filedock keys create`."""
    args = ["--tenant", "default", "--user", user, "--scopes", scopes, "--json"]
    out = filedock(server, "keys", "create", *args)
    return str(json.loads(out)["key"])


def sign_in(page: Page, key: str) -> None:
    """The API-key field every page has at its top."""
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Use key").click()
    expect(page.get_by_role("status").filter(has_text="Signed in")).to_be_visible()
