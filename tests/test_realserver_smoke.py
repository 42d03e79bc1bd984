from __future__ import annotations

import httpx
import pytest

from tests.realserver import ServerProcess


@pytest.mark.server
def test_server_process_round_trip(server: ServerProcess) -> None:
    data = b"hello filedock" * 1000
    with httpx.Client(base_url=server.url) as http:
        up = http.post("/api/v1/uploads", json={"filename": "a.txt", "size": len(data)}).json()
        assert http.put(f"/api/v1/uploads/{up['id']}/chunks/0", content=data).status_code == 200
        done = http.post(f"/api/v1/uploads/{up['id']}/complete")
        assert done.status_code == 201, done.text
        assert http.get(done.json()["urls"]["content"]).content == data
