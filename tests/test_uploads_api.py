"""The native upload API over HTTP: happy paths, resumption and every bad-input path."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime
import hashlib

import httpx
import pytest
from fastapi import FastAPI

from filedock.settings import Settings
from tests.helpers import chunks_of, create, send, upload_file

pytestmark = pytest.mark.databases  # the core's API runs on SQLite, MariaDB, PostgreSQL

CHUNK = 64 * 1024


async def test_create_answers_the_servers_choices(client: httpx.AsyncClient) -> None:
    upload = await create(client, None, size=10 * CHUNK + 5, chunk_size=10**9)
    assert upload["chunk_size"] == 1024 * 1024  # clamped to max_chunk_size
    assert upload["chunk_count"] == 1
    assert upload["state"] == "receiving"
    assert upload["missing_chunks"] == [0]
    assert upload["urls"]["chunk"].endswith(f"/uploads/{upload['id']}/chunks/{{index}}")
    assert upload["expires_at"]


async def test_shuffled_parallel_chunks_give_a_byte_exact_file(
    client: httpx.AsyncClient, payload: bytes
) -> None:
    data = payload(7 * CHUNK + 123)
    upload = await create(client, data, content_type="video/mp4", metadata={"a": 1})
    pieces = chunks_of(data, upload["chunk_size"])
    await asyncio.gather(
        *(
            client.put(f"/api/v1/uploads/{upload['id']}/chunks/{i}", content=piece)
            for i, piece in reversed(list(enumerate(pieces)))
        )
    )
    status = (await client.get(f"/api/v1/uploads/{upload['id']}")).json()
    assert status["received_chunks"] == list(range(8))
    assert status["missing_chunks"] == []
    assert status["bytes_received"] == len(data)
    done = await client.post(f"/api/v1/uploads/{upload['id']}/complete")
    assert done.status_code == 201
    record = done.json()
    assert record["sha256"] == hashlib.sha256(data).hexdigest()
    assert record["content_type"] == "video/mp4"
    assert record["metadata"] == {"a": 1}
    assert (await client.get(record["urls"]["content"])).content == data
    after = (await client.get(f"/api/v1/uploads/{upload['id']}")).json()
    assert after["state"] == "completed" and after["file_id"] == record["id"]


async def test_status_lists_what_is_missing_and_resending_is_idempotent(
    client: httpx.AsyncClient, payload: bytes
) -> None:
    data = payload(4 * CHUNK)
    upload = await create(client, data)
    url = f"/api/v1/uploads/{upload['id']}/chunks"
    for index in (0, 2, 2):
        piece = data[index * CHUNK : (index + 1) * CHUNK]
        receipt = await client.put(f"{url}/{index}", content=piece)
        assert receipt.status_code == 200
        assert receipt.json() == {
            "upload_id": upload["id"],
            "index": index,
            "offset": index * CHUNK,
            "size": CHUNK,
        }
    status = (await client.get(f"/api/v1/uploads/{upload['id']}")).json()
    assert status["received_chunks"] == [0, 2]
    assert status["missing_chunks"] == [1, 3]
    assert status["bytes_received"] == 2 * CHUNK

    incomplete = await client.post(f"/api/v1/uploads/{upload['id']}/complete")
    assert incomplete.status_code == 409
    assert incomplete.json()["code"] == "upload_incomplete"
    assert incomplete.json()["details"]["missing_chunks"] == [1, 3]

    for index in (1, 3):
        await client.put(f"{url}/{index}", content=data[index * CHUNK : (index + 1) * CHUNK])
    done = await client.post(f"/api/v1/uploads/{upload['id']}/complete")
    assert done.status_code == 201
    assert (await client.get(done.json()["urls"]["content"])).content == data


async def test_completing_twice_or_at_once_gives_one_file(
    client: httpx.AsyncClient, payload: bytes
) -> None:
    data = payload(3 * CHUNK)
    upload = await create(client, data)
    await send(client, upload, data)
    url = f"/api/v1/uploads/{upload['id']}/complete"
    answers = await asyncio.gather(*(client.post(url) for _ in range(4)))
    again = await client.post(url)
    ids = {a.json()["id"] for a in [*answers, again]}
    assert [a.status_code for a in answers] == [201] * 4
    assert len(ids) == 1
    listing = (await client.get("/api/v1/files")).json()
    assert listing["total"] == 1


async def test_chunk_digests_are_verified(client: httpx.AsyncClient, payload: bytes) -> None:
    data = payload(2 * CHUNK)
    upload = await create(client, data)
    url = f"/api/v1/uploads/{upload['id']}/chunks"
    first, second = data[:CHUNK], data[CHUNK:]
    good_md5 = base64.b64encode(hashlib.md5(first).digest()).decode()
    bad_sha = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    good_sha = base64.b64encode(hashlib.sha256(second).digest()).decode()

    ok = await client.put(f"{url}/0", content=first, headers={"Content-MD5": good_md5})
    assert ok.status_code == 200
    bad = await client.put(
        f"{url}/1", content=second, headers={"Content-Digest": f"sha-256=:{bad_sha}:"}
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "checksum_mismatch"
    status = (await client.get(f"/api/v1/uploads/{upload['id']}")).json()
    assert status["received_chunks"] == [0]
    resent = await client.put(
        f"{url}/1", content=second, headers={"Repr-Digest": f"sha-256=:{good_sha}:"}
    )
    assert resent.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{"Content-MD5": "not base64!"}, {"Content-Digest": "sha-256=abc"}, {"Content-MD5": "AAAA"}],
)
async def test_malformed_digest_headers_are_400(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    upload = await create(client, b"x")
    answer = await client.put(
        f"/api/v1/uploads/{upload['id']}/chunks/0", content=b"x", headers=headers
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "bad_digest_header"


async def test_chunk_errors(client: httpx.AsyncClient, payload: bytes) -> None:
    data = payload(2 * CHUNK + 10)
    upload = await create(client, data)
    url = f"/api/v1/uploads/{upload['id']}/chunks"

    unknown = await client.put("/api/v1/uploads/nope/chunks/0", content=b"x")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "upload_not_found")
    beyond = await client.put(f"{url}/3", content=b"x")
    assert (beyond.status_code, beyond.json()["code"]) == (416, "chunk_index_out_of_range")
    negative = await client.put(f"{url}/-1", content=b"x")
    assert negative.status_code == 422
    short = await client.put(f"{url}/0", content=data[: CHUNK - 1])
    assert (short.status_code, short.json()["code"]) == (400, "chunk_length_mismatch")
    long = await client.put(f"{url}/2", content=data[2 * CHUNK :] + b"extra")
    assert (long.status_code, long.json()["code"]) == (413, "chunk_too_large")

    async def chunked_body():  # no Content-Length: the limit is enforced while streaming
        yield data[:CHUNK]
        yield b"more"

    streamed = await client.put(f"{url}/0", content=chunked_body())
    assert (streamed.status_code, streamed.json()["code"]) == (413, "chunk_too_large")
    status = (await client.get(f"/api/v1/uploads/{upload['id']}")).json()
    assert status["received_chunks"] == []


async def test_expected_checksums_are_checked_at_completion(
    client: httpx.AsyncClient, payload: bytes
) -> None:
    data = payload(3 * CHUNK)
    good = await upload_file(client, data, md5=hashlib.md5(data).hexdigest())
    assert good["size"] == len(data)

    upload = await create(client, data, sha256="0" * 64)
    await send(client, upload, data)
    failed = await client.post(f"/api/v1/uploads/{upload['id']}/complete")
    assert (failed.status_code, failed.json()["code"]) == (422, "checksum_mismatch")
    status = (await client.get(f"/api/v1/uploads/{upload['id']}")).json()
    assert status["state"] == "failed" and "sha256" in status["error"]
    assert (await client.get("/api/v1/files")).json()["total"] == 1


async def test_size_may_be_declared_at_completion(
    client: httpx.AsyncClient, payload: bytes
) -> None:
    data = payload(2 * CHUNK + 7)
    upload = await create(client, None, chunk_size=CHUNK)
    assert upload["size"] is None and upload["chunk_count"] is None
    await send(client, upload, data)
    wrong = await client.post(f"/api/v1/uploads/{upload['id']}/complete", json={"size": 5})
    assert (wrong.status_code, wrong.json()["code"]) == (409, "size_mismatch")
    done = await client.post(f"/api/v1/uploads/{upload['id']}/complete", json={"size": len(data)})
    assert done.status_code == 201
    assert (await client.get(done.json()["urls"]["content"])).content == data


async def test_deferred_size_with_a_gap_reports_the_missing_chunk(
    client: httpx.AsyncClient, payload: bytes
) -> None:
    upload = await create(client, None, chunk_size=CHUNK)
    url = f"/api/v1/uploads/{upload['id']}/chunks"
    await client.put(f"{url}/0", content=payload(CHUNK))
    await client.put(f"{url}/2", content=payload(10))
    status = (await client.get(f"/api/v1/uploads/{upload['id']}")).json()
    assert status["missing_chunks"] == [1]
    answer = await client.post(f"/api/v1/uploads/{upload['id']}/complete")
    assert answer.status_code == 409
    assert answer.json()["details"]["missing_chunks"] == [1]


async def test_empty_file(client: httpx.AsyncClient) -> None:
    record = await upload_file(client, b"", filename="empty.txt")
    assert record["size"] == 0
    got = await client.get(record["urls"]["content"])
    assert got.status_code == 200 and got.content == b""


async def test_abort_frees_the_staged_bytes(
    client: httpx.AsyncClient, settings: Settings, payload: bytes
) -> None:
    data = payload(2 * CHUNK)
    upload = await create(client, data)
    await client.put(f"/api/v1/uploads/{upload['id']}/chunks/0", content=data[:CHUNK])
    staging = settings.data_dir / "storage" / "staging"
    assert any(staging.iterdir())
    assert (await client.delete(f"/api/v1/uploads/{upload['id']}")).status_code == 204
    assert not any(staging.iterdir())
    gone = await client.get(f"/api/v1/uploads/{upload['id']}")
    assert (gone.status_code, gone.json()["code"]) == (410, "upload_expired")
    late = await client.put(f"/api/v1/uploads/{upload['id']}/chunks/1", content=data[CHUNK:])
    assert late.status_code == 410


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"size": 1}, "filename"),
        ({"filename": "a", "size": "10"}, "size"),
        ({"filename": "a", "size": -1}, "size"),
        ({"filename": "a", "metadata": [1]}, "metadata"),
        ({"filename": "a", "sha256": "xyz"}, "sha256"),
        ({"filename": "a", "chunk_size": 0}, "chunk_size"),
        ({"filename": "a", "colour": "red"}, "colour"),
        ({"filename": 5}, "filename"),
    ],
)
async def test_malformed_creation_is_422_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    answer = await client.post("/api/v1/uploads", json=body)
    assert answer.status_code == 422
    error = answer.json()
    assert error["code"] == "invalid_request"
    assert any(field in e["field"] for e in error["details"]["errors"])


async def test_malformed_json_is_422(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/api/v1/uploads", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422
    assert answer.json()["code"] == "invalid_request"


async def test_too_large_a_file_is_413(client: httpx.AsyncClient, settings: Settings) -> None:
    answer = await client.post(
        "/api/v1/uploads", json={"filename": "big", "size": settings.max_file_size + 1}
    )
    assert (answer.status_code, answer.json()["code"]) == (413, "file_too_large")


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("../../etc/passwd", "passwd"),
        ("/absolute/path/report.pdf", "report.pdf"),
        ("C:\\Users\\me\\notes.txt", "notes.txt"),
        ("nul\x00byte\x01.txt", "nulbyte.txt"),
        ("..", "file"),
        ("été 📷.jpg", "été 📷.jpg"),
    ],
)
async def test_file_names_are_sanitised_and_never_touch_the_disk(
    client: httpx.AsyncClient, settings: Settings, given: str, stored: str
) -> None:
    record = await upload_file(client, b"data", filename=given)
    assert record["name"] == stored
    objects = settings.data_dir / "storage" / "objects"
    assert [p.relative_to(objects).as_posix() for p in objects.rglob("*") if p.is_file()] == [
        f"files/{record['id']}"
    ]


async def test_idle_uploads_expire_and_cleanup_frees_them(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    services = app.state.services
    services.uploads.policy = dataclasses.replace(
        services.uploads.policy, ttl=datetime.timedelta(seconds=0.2)
    )
    upload = await create(client, b"abcd" * 10)
    await client.put(f"/api/v1/uploads/{upload['id']}/chunks/0", content=b"abcd" * 5 + b"x" * 20)
    await asyncio.sleep(0.3)
    expired = await client.get(f"/api/v1/uploads/{upload['id']}")
    assert (expired.status_code, expired.json()["code"]) == (410, "upload_expired")
    assert await services.uploads.expire_idle() == 1
    assert not any((settings.data_dir / "storage" / "staging").iterdir())
    assert await services.uploads.expire_idle() == 0


async def test_openapi_documents_every_route_and_its_errors(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    chunk = spec["paths"]["/api/v1/uploads/{upload_id}/chunks/{index}"]["put"]
    assert {"404", "413", "416", "507"} <= set(chunk["responses"])
    assert "/api/v1/files/{file_id}/content" in spec["paths"]
    assert (await client.get("/docs")).status_code == 200


async def test_empty_file_with_size_declared_at_completion(client: httpx.AsyncClient) -> None:
    upload = await create(client, None)
    assert (await client.put(f"/api/v1/uploads/{upload['id']}/chunks/0", content=b"")).is_success
    done = await client.post(f"/api/v1/uploads/{upload['id']}/complete", json={"size": 0})
    assert done.status_code == 201, done.text
    assert done.json()["size"] == 0


async def test_a_chunk_resent_with_other_bytes_gives_the_hash_of_the_final_bytes(
    client: httpx.AsyncClient, payload: bytes
) -> None:
    data = payload(3 * CHUNK)
    upload = await create(client, data)
    url = f"/api/v1/uploads/{upload['id']}/chunks"
    await client.put(f"{url}/0", content=payload(CHUNK))  # hashed in order, then replaced
    await client.put(f"{url}/1", content=data[CHUNK : 2 * CHUNK])
    await client.put(f"{url}/0", content=data[:CHUNK])
    await client.put(f"{url}/2", content=data[2 * CHUNK :])
    done = await client.post(f"/api/v1/uploads/{upload['id']}/complete")
    assert done.json()["sha256"] == hashlib.sha256(data).hexdigest()
    assert (await client.get(done.json()["urls"]["content"])).content == data
