"""The pages and their assets are served by filedock itself, under an origin-only CSP,
and ship in the wheel."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import httpx
import pytest

from filedock.api.web import WEB_DIR

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["/", "/admin", "/docs", "/redoc"]


@pytest.mark.parametrize("path", PAGES)
async def test_each_page_is_html_under_an_origin_only_csp(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    # Only the docs bundles (styled-components, React) need inline styles.
    expected_style = "'self' 'unsafe-inline'" if path in ("/docs", "/redoc") else "'self'"
    assert policy["style-src"] == expected_style
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", PAGES)
async def test_every_script_and_style_a_page_names_is_served_here(
    client: httpx.AsyncClient, path: str
) -> None:
    html = (await client.get(path)).text
    assets = re.findall(r'(?:src|href)="([^"#]+)"', html)
    local = [a for a in assets if a.startswith("/ui/")]
    assert local, "the page names no asset"
    assert [a for a in assets if a.startswith(("http:", "https:", "//"))] == []
    for asset in local:
        response = await client.get(asset)
        assert response.status_code == 200, asset
        assert response.content


async def test_fastapis_cdn_docs_are_gone(client: httpx.AsyncClient) -> None:
    docs = (await client.get("/docs")).text
    assert "cdn.jsdelivr.net" not in docs and "/ui/vendor/swagger-ui/" in docs
    assert (await client.get("/docs/oauth2-redirect")).status_code == 404
    schema = (await client.get("/openapi.json")).json()
    assert "/" not in schema["paths"] and "/docs" not in schema["paths"]


def test_no_shipped_file_loads_from_a_cdn() -> None:
    files = [p for p in WEB_DIR.rglob("*") if p.suffix in (".js", ".css", ".html")]
    assert len(files) > 5
    for path in files:
        text = path.read_text()
        assert (
            "cdn.redoc.ly" not in text and "cdn.jsdelivr" not in text and "unpkg.com" not in text
        ), path


def test_vendored_bundles_carry_their_licences() -> None:
    for folder in ("swagger-ui", "redoc"):
        assert (WEB_DIR / "vendor" / folder / "LICENSE").stat().st_size > 500


def test_every_web_file_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["filedock.web"]
    matched = {p for pattern in patterns for p in WEB_DIR.glob(pattern) if p.is_file()}
    needed = {p for p in WEB_DIR.rglob("*") if p.is_file() and p.suffix != ".md"}
    assert len(needed) > 10
    assert needed - matched == set()


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_every_module_of_the_app_parses() -> None:
    modules = sorted(WEB_DIR.glob("*.js"))
    assert len(modules) > 5
    for module in modules:
        check = subprocess.run(
            ["node", "--input-type=module", "--check"],
            input=module.read_bytes(),
            capture_output=True,
            check=False,
        )
        assert check.returncode == 0, (module.name, check.stderr.decode())
