"""What an operator sees: /readyz, the Prometheus metrics (their database-backed gauges on
every database), and one access log line per request naming the upload, JSON if asked."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from filedock.observability import JsonFormatter
from tests.helpers import create, send, upload_file

pytestmark = pytest.mark.databases

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(client: httpx.AsyncClient) -> Samples:
    answer = await client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_readyz_names_what_it_checked(client: httpx.AsyncClient) -> None:
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checked": ["database", "storage"]}


async def test_metrics_follow_uploads_jobs_and_errors(client: httpx.AsyncClient) -> None:
    before = await scrape(client)
    data = b"m" * 200_000  # 4 chunks of 64 KiB
    await upload_file(client, data)
    pending = await create(client, b"p" * 10)
    assert (await client.get("/api/v1/uploads/nope")).status_code == 404
    after = await scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("filedock_received_bytes_total") == len(data)
    assert grew("filedock_chunk_request_seconds_count") == 4
    assert grew("filedock_errors_total", code="upload_not_found") == 1
    assert grew("filedock_job_duration_seconds_count", kind="assemble", state="success") == 1
    assert value(after, "filedock_uploads_in_progress", state="receiving") == 1
    assert value(after, "filedock_uploads_in_progress", state="assembling") == 0
    assert value(after, "filedock_jobs", kind="assemble", state="success") == 1
    route = "/api/v1/uploads/{upload_id}/chunks/{index}"
    assert grew("filedock_requests_total", method="PUT", route=route, status="200") == 4
    assert pending["state"] == "receiving"


async def test_one_access_line_per_request_with_the_upload(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    data = b"l" * 1000
    upload = await create(client, data)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="filedock.access"):
        await send(client, upload, data)
        await client.put(f"/api/v1/uploads/{upload['id']}/chunks/9", content=b"x")
        await client.get("/healthz")  # probes log below INFO
    lines = [r for r in caplog.records if r.name == "filedock.access"]
    assert len(lines) == 2
    fields = [json.loads(JsonFormatter().format(r)) for r in lines]
    assert fields[0]["upload_id"] == upload["id"]
    assert fields[0]["method"] == "PUT" and fields[0]["status"] == 200
    assert fields[1]["error"] == "chunk_index_out_of_range" and fields[1]["status"] == 416
    assert f"upload_id={upload['id']}" in lines[0].getMessage()
