from __future__ import annotations

import httpx

from tests.helpers import upload_file


async def test_round_trip(client: httpx.AsyncClient) -> None:
    data = bytes(range(256)) * 1000
    record = await upload_file(client, data, filename="r.bin")
    got = await client.get(f"/api/v1/files/{record['id']}/content")
    assert got.status_code == 200
    assert got.content == data
