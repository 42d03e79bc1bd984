"""An overwrite under a reader, over a real server process (streaming is real there)."""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest

from tests.realserver import ServerProcess

MiB = 1024 * 1024


@pytest.mark.server
def test_a_reader_during_an_overwrite_gets_the_old_bytes_whole(server: ServerProcess) -> None:
    """Over a real server: a download that started before an overwrite completes keeps
    streaming the old file to its end, and the next reader gets the new one; never a mix."""
    old, new = os.urandom(24 * MiB), os.urandom(24 * MiB)
    with httpx.Client(base_url=server.url, timeout=60) as client:

        def place(data: bytes, **extra: Any) -> dict[str, Any]:
            made = client.post(
                "/api/v1/uploads",
                json={"path": "/movie.bin", "size": len(data), "chunk_size": 8 * MiB, **extra},
            ).json()
            for index in range(0, len(data), 8 * MiB):
                sent = client.put(
                    f"/api/v1/uploads/{made['id']}/chunks/{index // (8 * MiB)}",
                    content=data[index : index + 8 * MiB],
                )
                assert sent.status_code == 200, sent.text
            done = client.post(f"/api/v1/uploads/{made['id']}/complete")
            assert done.status_code == 201, done.text
            return dict(done.json())

        first = place(old)
        with client.stream("GET", f"/api/v1/files/{first['id']}/content") as reading:
            pieces = reading.iter_bytes(MiB)
            got = next(pieces)
            second = place(new, if_exists="overwrite")
            got += b"".join(pieces)
        assert got == old
        found = client.get("/api/v1/files/by-path", params={"path": "/movie.bin"}).json()
        assert found["id"] == second["id"]
        assert client.get(f"/api/v1/files/{second['id']}/content").content == new
        assert client.get(f"/api/v1/files/{first['id']}").status_code == 404
