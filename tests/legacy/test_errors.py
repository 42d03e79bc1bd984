"""Every error of the seed API: the original's envelope, 422 for what it validated."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from filedock.settings import Settings
from tests.legacy.seed import API, complete_form, error_of, init, send_chunk, upload

KiB = 1024
EXTENSIONS = (
    "'txt', 'jpg', 'png', 'pdf', 'mp4', 'mp3', 'mov', 'avi', 'doc', 'docx', 'xls', 'xlsx', "
    "'ppt', 'pptx', 'gif', 'bmp', 'tiff', 'csv', 'json', 'xml', 'html', 'zip', 'rar', 'tar', "
    "'gz', 'wav', 'flac', 'ogg', 'webm', 'mkv', 'heic', 'svg', 'psd', 'ai', 'eps', 'tif' or 'tga'"
)


@pytest.mark.parametrize("missing", ["upload_id", "chunk_index", "chunk_size"])
async def test_chunk_without_a_field_is_422_naming_it(
    client: httpx.AsyncClient, missing: str
) -> None:
    form: dict[str, Any] = {"upload_id": "x", "chunk_index": 0, "chunk_size": 10}
    del form[missing]
    response = await client.post(f"{API}/upload/chunk/", data=form, files={"file": b"0" * 10})
    assert error_of(response, 422)["errors"] == [f"[body->{missing}] field required"]


async def test_chunk_without_its_file_is_422(client: httpx.AsyncClient) -> None:
    form = {"upload_id": "x", "chunk_index": 0, "chunk_size": 10}
    for response in (
        await client.post(f"{API}/upload/chunk/", data=form),  # urlencoded
        await client.post(f"{API}/upload/chunk/", data=form, files={"other": b"1"}),
    ):
        assert error_of(response, 422)["errors"] == ["[body->file] field required"]


async def test_chunk_with_nothing_lists_every_missing_field(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/upload/chunk/")
    assert error_of(response, 422)["errors"] == [
        "[body->upload_id] field required",
        "[body->chunk_index] field required",
        "[body->chunk_size] field required",
        "[body->file] field required",
    ]


async def test_chunk_size_over_the_maximum_is_422(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    started = await init(client)
    limit = settings.max_chunk_size
    response = await send_chunk(client, started["upload_id"], 0, b"0", chunk_size=limit + 1)
    assert error_of(response, 422)["errors"] == [
        f"[body->chunk_size] input should be less than or equal to {limit}"
    ]


async def test_chunk_bigger_than_the_chunk_size_is_422(client: httpx.AsyncClient) -> None:
    started = await init(client)
    piece = b"1" * (started["chunk_size"] + 1)
    lying = await send_chunk(client, started["upload_id"], 0, piece, chunk_size=10)
    assert "larger than" in error_of(lying, 422)["message"]
    honest = await send_chunk(client, started["upload_id"], 0, piece)
    error_of(honest, 422)


async def test_chunk_of_an_unknown_upload_is_422(client: httpx.AsyncClient) -> None:
    response = await send_chunk(client, "f28a2047-2409-4a88-af3b-227038f6c811", 0, b"0" * 10)
    assert "No upload" in error_of(response, 422)["message"]


async def test_chunk_with_a_bad_index_is_422(client: httpx.AsyncClient) -> None:
    started = await init(client)
    response = await send_chunk(client, started["upload_id"], "two", b"0")
    assert error_of(response, 422)["errors"] == [
        "[body->chunk_index] input should be a valid integer, unable to parse string as an integer"
    ]


async def test_complete_with_nothing_lists_every_missing_field(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/upload/complete/")
    assert error_of(response, 422)["errors"] == [
        f"[body->{name}] field required"
        for name in ("upload_id", "total_chunks", "total_size", "file_extension", "content_type")
    ]


async def test_complete_with_an_unknown_extension_is_422(client: httpx.AsyncClient) -> None:
    started = await init(client)
    form = complete_form(started["upload_id"], b"abc", 64 * KiB, file_extension="jpg2")
    response = await client.post(f"{API}/upload/complete/", data=form)
    assert error_of(response, 422)["errors"] == [
        f"[body->file_extension] input should be {EXTENSIONS}"
    ]


@pytest.mark.parametrize("name", ["credential", "detail"])
@pytest.mark.parametrize("value", ["{not json", "[1, 2]", '"text"', "42"])
async def test_complete_with_a_credential_or_detail_not_a_json_object_is_422(
    client: httpx.AsyncClient, name: str, value: str
) -> None:
    started = await init(client)
    form = complete_form(started["upload_id"], b"abc", 64 * KiB, **{name: value})
    response = await client.post(f"{API}/upload/complete/", data=form)
    assert error_of(response, 422)["errors"] == [f"[body->{name}] invalid json format for {name}"]


async def test_complete_of_an_unknown_upload_is_422(client: httpx.AsyncClient) -> None:
    form = complete_form("f28a2047-2409-4a88-af3b-227038f6c811", b"abc", 64 * KiB)
    response = await client.post(f"{API}/upload/complete/", data=form)
    assert "No upload" in error_of(response, 422)["message"]


async def test_complete_with_totals_that_disagree_is_422(client: httpx.AsyncClient) -> None:
    data = b"z" * (2 * 64 * KiB + 5)
    started = await init(client)
    upload_id, size = started["upload_id"], started["chunk_size"]
    for index, start in enumerate(range(0, len(data), size)):
        assert (await send_chunk(client, upload_id, index, data[start : start + size])).is_success

    async def completing(**changes: Any) -> dict[str, Any]:
        form = complete_form(upload_id, data, size) | changes
        return error_of(await client.post(f"{API}/upload/complete/", data=form), 422)

    wrong_count = await completing(total_chunks=4)
    assert wrong_count["errors"] == [
        f"[body->total_chunks] {len(data)} bytes in chunks of {size} are 3 chunks, not 4"
    ]
    assert "do not form" in (await completing(total_size=len(data) - 1))["message"]
    assert "do not form" in (await completing(total_size=len(data) + 1))["message"]


async def test_complete_with_a_chunk_missing_is_422(client: httpx.AsyncClient) -> None:
    started = await init(client)
    upload_id, size = started["upload_id"], started["chunk_size"]
    data = b"m" * (3 * size)
    for index in (0, 2):
        assert (await send_chunk(client, upload_id, index, b"m" * size)).is_success
    form = complete_form(upload_id, data, size)
    response = await client.post(f"{API}/upload/complete/", data=form)
    assert error_of(response, 422)["message"] == "1 chunk(s) are missing: 1."


async def test_unknown_file_is_404_everywhere(client: httpx.AsyncClient) -> None:
    unknown = "ef533045-5d37-4a8e-a2c6-73070e6ce151"
    error_of(await client.get(f"{API}/get/{unknown}"), 404)
    error_of(await client.get(f"{API}/status/{unknown}"), 404)
    error_of(await client.post(f"{API}/upload/retry", data={"file_id": unknown}), 404)


async def test_retry_without_file_id_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/upload/retry")
    assert error_of(response, 422)["errors"] == ["[body->file_id] field required"]


async def test_bodies_that_are_not_json_objects_or_forms_are_422(
    client: httpx.AsyncClient,
) -> None:
    json_header = {"Content-Type": "application/json"}
    for body, headers in (
        (b"{oops", json_header),
        (b"[1, 2]", json_header),
        (b"plain words", {"Content-Type": "text/plain"}),
    ):
        response = await client.post(f"{API}/upload/init/", content=body, headers=headers)
        assert len(error_of(response, 422)["errors"]) == 1


async def test_a_multipart_body_that_stops_inside_the_chunk_records_nothing(
    client: httpx.AsyncClient,
) -> None:
    started = await init(client)
    upload_id = started["upload_id"]
    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="upload_id"\r\n\r\n{upload_id}'
        f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="chunk_index"\r\n\r\n0'
        f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="chunk_size"\r\n\r\n100'
        f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="c"\r\n'
        "\r\n"
    ).encode()
    response = await client.post(
        f"{API}/upload/chunk/",
        content=head + b"a" * 50,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert "ended inside a part" in error_of(response, 422)["message"]
    native = (await client.get(f"/api/v1/uploads/{upload_id}")).json()
    assert native["received_chunks"] == []


async def test_validation_errors_report_the_originals_messages(
    client: httpx.AsyncClient,
) -> None:
    started, _ = await upload(client, b"q" * 10)
    form = complete_form(started["upload_id"], b"q" * 10, 64 * KiB, total_size="-1")
    response = await client.post(f"{API}/upload/complete/", data=form)
    assert error_of(response, 422)["errors"] == [
        "[body->total_size] input should be greater than or equal to 0"
    ]
    detail = json.dumps({"k": "v" * 20_000})
    form = complete_form(started["upload_id"], b"q" * 10, 64 * KiB, detail=detail)
    response = await client.post(f"{API}/upload/complete/", data=form)
    assert "detail must serialise" in error_of(response, 422)["errors"][0]


async def test_a_chunk_sent_before_its_fields_is_bounded_by_the_maximum(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    started = await init(client)
    parts = [
        ("file", ("segment", b"9" * (settings.max_chunk_size + 1), "application/octet-stream")),
        ("upload_id", (None, started["upload_id"])),
    ]
    response = await client.post(f"{API}/upload/chunk/", files=parts)
    assert "over the maximum" in error_of(response, 422)["message"]
