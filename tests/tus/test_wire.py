"""CORS for browser clients, a configurable base path, and the header parsers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from filedock.api.tus import headers
from filedock.errors import FiledockError
from filedock.settings import Settings
from tests.tus.conftest import TUS, app_client, metadata

# What tus-js-client sends in a browser before a PATCH.
PREFLIGHT = {
    "Origin": "https://app.example",
    "Access-Control-Request-Method": "PATCH",
    "Access-Control-Request-Headers": "tus-resumable,upload-offset,content-type,upload-checksum",
}


@pytest.fixture
async def strict(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A server that lets one origin use tus, under another base path."""
    changes = {"tus_cors_origins": ["https://app.example"], "tus_base_path": "/up/tus/"}
    async with app_client(settings, **changes) as client:
        yield client


async def test_preflight_allows_the_tus_headers(client: httpx.AsyncClient) -> None:
    answer = await client.options("/files/abc", headers=PREFLIGHT)
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "PATCH" in answer.headers["Access-Control-Allow-Methods"]
    allowed = answer.headers["Access-Control-Allow-Headers"].lower()
    for name in ("tus-resumable", "upload-offset", "upload-checksum", "x-http-method-override"):
        assert name in allowed


async def test_responses_expose_the_tus_headers(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/files/", headers={**TUS, "Upload-Length": "3", "Origin": "https://app.example"}
    )
    assert answer.status_code == 201
    exposed = answer.headers["Access-Control-Expose-Headers"]
    for name in ("Location", "Upload-Offset", "Upload-Length", "Tus-Resumable", "Upload-Expires"):
        assert name in exposed


async def test_only_configured_origins_get_cors(strict: httpx.AsyncClient) -> None:
    allowed = await strict.options("/up/tus/abc", headers=PREFLIGHT)
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example"
    other = await strict.options("/up/tus/abc", headers={**PREFLIGHT, "Origin": "https://evil"})
    assert other.status_code == 400
    native = await strict.options("/api/v1/files", headers=PREFLIGHT)
    assert "Access-Control-Allow-Origin" not in native.headers  # CORS is tus's only


async def test_the_base_path_is_configurable(strict: httpx.AsyncClient) -> None:
    created = await strict.post("/up/tus/", headers={**TUS, "Upload-Length": "2"})
    assert created.status_code == 201
    location = created.headers["Location"]
    assert location.startswith("http://filedock.test/up/tus/")
    patch = {**TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}
    assert (await strict.patch(location, headers=patch, content=b"ok")).status_code == 204
    assert (await strict.get(location)).content == b"ok"
    assert (await strict.post("/files/", headers={**TUS, "Upload-Length": "2"})).status_code == 404


def test_metadata_maps_filename_and_filetype_and_keeps_the_rest() -> None:
    parsed = headers.metadata(metadata(filename="a/b.txt", filetype="text/plain", k="v") + ",flag")
    assert parsed.filename == "a/b.txt"  # the core keeps only the last component
    assert parsed.content_type == "text/plain"
    assert parsed.metadata == {"k": "v", "flag": ""}


def test_metadata_keeps_binary_values_and_refuses_unsafe_types() -> None:
    parsed = headers.metadata("blob /w==,filetype dGV4dC9wbGFpbg0KWC1Fdmls")  # text/plain\r\nX-Evil
    assert parsed.metadata == {"blob": {"base64": "/w=="}}
    assert parsed.content_type is None


@pytest.mark.parametrize(
    ("value", "sources"),
    [
        ("final;/files/a /files/b", ("a", "b")),
        ("final;http://host:8000/files/a  https://other/files/b", ("a", "b")),
    ],
)
def test_concat_names_upload_ids(value: str, sources: tuple[str, ...]) -> None:
    parsed = headers.concat(value, "/files/")
    assert parsed is not None and parsed.final and parsed.sources == sources


@pytest.mark.parametrize("value", ["final;/files/a/b", "final;/files/", "partial;x", "other"])
def test_bad_concat_values_are_refused(value: str) -> None:
    with pytest.raises(FiledockError) as caught:
        headers.concat(value, "/files/")
    assert caught.value.status == 400
