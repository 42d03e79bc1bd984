"""The real tus clients against a real filedock server: tuspy (PyPI) and tus-js-client (npm,
run with node). Every upload is downloaded again and compared byte for byte."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, BinaryIO

import httpx
import pytest
from tusclient.client import TusClient
from tusclient.exceptions import TusCommunicationError, TusUploadFailed
from tusclient.uploader import Uploader

from tests.realserver import ServerProcess
from tests.tus.conftest import TUS, MiB, cutting_proxy, node_upload, same_bytes

pytestmark = pytest.mark.server


def _endpoint(server: ServerProcess) -> str:
    return f"{server.url}/files/"


def _offset(url: str) -> int:
    return int(httpx.head(url, headers=TUS).headers["Upload-Offset"])


# tuspy -----------------------------------------------------------------------------------
def _tuspy(endpoint: str, stream: BinaryIO, **options: Any) -> Uploader:
    """tuspy on an open file (given a path, it leaves files open)."""
    return TusClient(endpoint).uploader(file_stream=stream, **options)


def test_tuspy_uploads_in_chunks(tus_server: ServerProcess, file_50m: Path) -> None:
    with file_50m.open("rb") as stream:
        uploader = _tuspy(
            _endpoint(tus_server),
            stream,
            chunk_size=8 * MiB,
            metadata={"filename": "tuspy.bin", "kind": "test"},
        )
        uploader.upload()
    assert same_bytes(uploader.url, file_50m)
    files = httpx.get(f"{tus_server.url}/api/v1/files", params={"prefix": "tuspy.bin"}).json()
    (record,) = files["items"]  # an ordinary filedock file
    assert record["sha256"] == hashlib.sha256(file_50m.read_bytes()).hexdigest()
    assert record["metadata"] == {"kind": "test"}


def test_tuspy_with_checksums(tus_server: ServerProcess, file_50m: Path) -> None:
    with file_50m.open("rb") as stream:
        uploader = _tuspy(_endpoint(tus_server), stream, chunk_size=5 * MiB, upload_checksum=True)
        uploader.upload()
    assert same_bytes(uploader.url, file_50m)


def test_tuspy_resumes_after_the_connection_is_cut(
    tus_server: ServerProcess, file_50m: Path
) -> None:
    with file_50m.open("rb") as stream, cutting_proxy(tus_server.port, 20 * MiB) as port:
        cut = _tuspy(f"http://127.0.0.1:{port}/files/", stream)
        with pytest.raises((TusUploadFailed, TusCommunicationError)):
            cut.upload()  # one PATCH for the whole file, cut after 20 MiB
    url = f"{tus_server.url}{httpx.URL(cut.url).path}"
    kept = _offset(url)
    assert 0 < kept <= 20 * MiB  # every byte that arrived was kept
    with file_50m.open("rb") as stream:
        resumed = _tuspy(_endpoint(tus_server), stream, url=url)
        assert resumed.offset == kept  # tuspy asked the server (HEAD) where to go on from
        resumed.upload()
    assert same_bytes(url, file_50m)


# tus-js-client ---------------------------------------------------------------------------
def test_tus_js_client_uploads_in_chunks(tus_server: ServerProcess, file_50m: Path) -> None:
    events = node_upload(
        _endpoint(tus_server), file_50m, chunkSize=8 * MiB, metadata={"filename": "js.bin"}
    )
    assert same_bytes(events[-1]["url"], file_50m)


def test_tus_js_client_parallel_uploads_concatenate(
    tus_server: ServerProcess, file_50m: Path
) -> None:
    events = node_upload(_endpoint(tus_server), file_50m, parallelUploads=4)
    final = events[-1]["url"]
    concat = httpx.head(final, headers=TUS).headers["Upload-Concat"]
    assert concat.startswith("final;") and len(concat.split()) == 4
    assert same_bytes(final, file_50m)


def test_tus_js_client_deferred_length(tus_server: ServerProcess, file_50m: Path) -> None:
    events = node_upload(_endpoint(tus_server), file_50m, deferred=True, chunkSize=8 * MiB)
    assert same_bytes(events[-1]["url"], file_50m)


def test_tus_js_client_killed_mid_request_resumes(
    tus_server: ServerProcess, file_50m: Path
) -> None:
    endpoint = _endpoint(tus_server)
    events = node_upload(endpoint, file_50m, check=False, dieAfter=20 * MiB)
    kinds = [e["event"] for e in events]
    assert "url" in kinds and "success" not in kinds  # it died during its one PATCH
    url = next(e["url"] for e in events if e["event"] == "url")
    kept = _offset(url)
    assert 0 < kept <= 20 * MiB
    resumed = node_upload(endpoint, file_50m, uploadUrl=url, overridePatchMethod=True)
    progress = [e for e in resumed if e["event"] == "progress"]
    assert progress[0]["sent"] >= kept  # it went on from the offset, not from zero
    assert same_bytes(url, file_50m)
