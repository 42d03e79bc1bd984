"""The native chunk API on local disk, on this machine: the figures (a) to (e) of issue 2.

(a) copying the 1 GiB file on the same disk is the reference; (b) uploading it over
loopback with 8 MiB chunks, 1 and 4 streams (and 64 MiB chunks, for (d)); (c) the time
from the complete call until the file is downloadable; (d) the server's peak RSS during
each upload; (e) download throughput.

Uploads in (b) use a lean client (httpx streaming each chunk from disk, no per-chunk
digest) so that the server is what is measured; the last rows run the real client (the
code behind `filedock upload` and `filedock download`) end to end. Every figure is the
best of REPEAT runs (the machine may be shared; the best run is the least disturbed) and
the row keeps every run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.support import (
    GiB,
    MiB,
    PeakRss,
    Stopwatch,
    console,
    make_random_file,
    rate,
    row,
    rss_mb,
    running_server,
)
from filedock.client import Api, ResumeState, Retry, Uploader, UploadOptions, download_file
from filedock.client.upload import BLOCK, complete, read_range

NAME = "native"
SIZE = GiB
SMALL = 64 * MiB
REPEAT = 3
COPY = "disk copy"
UPLOADS = ((8 * MiB, 1), (8 * MiB, 4), (64 * MiB, 1), (64 * MiB, 4))


def run(work: Path) -> list[dict[str, Any]]:
    console.log(f"writing a {SIZE // MiB} MiB test file")
    source = make_random_file(work / "source.bin", SIZE)
    small = work / "small.bin"
    small.write_bytes(source.read_bytes()[:SMALL])
    copies = [disk_copy(source, work / "copy.bin") for _ in range(REPEAT)]
    rates = Rates(max(copies))
    rows = [
        row(NAME, "disk copy 1 GiB (reference)", rates.reference, "MB/s", runs=copies),
        rates.compare(
            "disk copy 1 GiB + fsync",
            [disk_copy(source, work / "copy.bin", fsync=True) for _ in range(REPEAT)],
        ),
    ]
    with running_server(work / "data") as server, Api(server.url, connections=8) as api:
        assert server.process is not None
        pid = server.process.pid
        rows.append(row(NAME, "server RSS, idle", rss_mb(pid), "MB"))
        kept: dict[str, Any] = {}
        for chunk_size, streams in UPLOADS:
            label = f"{chunk_size // MiB} MiB chunks, {streams} stream{'s'[: streams - 1]}"
            console.log(f"uploading 1 GiB, {label}")
            done = [timed_upload(api, pid, source, chunk_size, streams) for _ in range(REPEAT)]
            rows += [
                rates.row(f"upload 1 GiB, {label}", [d.seconds for d in done]),
                worst(f"server peak RSS, upload {label}", [d.peak_rss for d in done], "MB"),
                best(f"complete → downloadable, 1 GiB, {label}", [d.completing for d in done]),
            ]
            for record in [d.record for d in done][0 if kept else 1 :]:
                api.request("DELETE", record["urls"]["self"])
            kept = kept or done[0].record  # the download rows read this one
        done = [timed_upload(api, pid, small, 8 * MiB, 1) for _ in range(REPEAT)]
        rows.append(best("complete → downloadable, 64 MiB, 1 stream", [d.completing for d in done]))
        rows += download_rows(api, pid, kept, rates)
        rows += client_rows(api, source, kept, work, rates)
    return rows


def disk_copy(source: Path, target: Path, *, fsync: bool = False) -> float:
    """(a): shutil.copyfile (copy_file_range, page cache left as it is), in MB/s.

    With `fsync`, the copy is also forced to the disk, as the server does with every chunk.
    """
    with Stopwatch() as clock:
        shutil.copyfile(source, target)
        if fsync:
            with target.open("rb") as handle:
                os.fsync(handle.fileno())
    target.unlink()
    return rate(SIZE, clock.seconds)


@dataclass(frozen=True)
class Rates:
    """MB/s rows (from the run times of 1 GiB, or speeds) compared with the disk copy."""

    reference: float

    def row(self, metric: str, seconds: list[float]) -> dict[str, Any]:
        return self.compare(metric, [rate(SIZE, s) for s in seconds])

    def compare(self, metric: str, speeds: list[float]) -> dict[str, Any]:
        return row(NAME, metric, max(speeds), "MB/s", COPY, max(speeds) / self.reference, speeds)


def best(metric: str, seconds: list[float]) -> dict[str, Any]:
    return row(NAME, metric, min(seconds), "s", runs=seconds)


def worst(metric: str, values: list[float], unit: str) -> dict[str, Any]:
    return row(NAME, metric, max(values), unit, runs=values)


@dataclass(frozen=True)
class TimedUpload:
    record: dict[str, Any]
    seconds: float  # sending every chunk
    completing: float  # from the complete call until a HEAD of the content succeeds
    peak_rss: float  # the server's, while the chunks arrived


def timed_upload(api: Api, pid: int, path: Path, chunk_size: int, streams: int) -> TimedUpload:
    size = path.stat().st_size
    spec = {"filename": path.name, "size": size, "chunk_size": chunk_size}
    upload = api.json("POST", "/api/v1/uploads", json=spec)
    assert upload["chunk_size"] == chunk_size, upload
    with PeakRss(pid) as peak, Stopwatch() as sending:
        send_chunks(api, upload, path, streams)
    with Stopwatch() as completing:
        record = complete(api, upload, Retry(attempts=1))
        api.request("HEAD", record["urls"]["content"])
    return TimedUpload(record, sending.seconds, completing.seconds, peak.peak)


def send_chunks(api: Api, upload: dict[str, Any], path: Path, streams: int) -> None:
    """Every chunk, `streams` at a time, each streamed from disk a block at a time."""
    size, chunk_size = upload["size"], upload["chunk_size"]

    def put(index: int) -> None:
        offset = index * chunk_size
        length = min(chunk_size, size - offset)
        api.request(
            "PUT",
            upload["urls"]["chunk"].replace("{index}", str(index)),
            content=read_range(path, offset, length),
            headers={"Content-Length": str(length), "Content-Type": "application/octet-stream"},
        )

    with ThreadPoolExecutor(streams) as pool:
        list(pool.map(put, range(upload["chunk_count"])))


def download_rows(api: Api, pid: int, record: dict[str, Any], rates: Rates) -> list[dict[str, Any]]:
    """(e): the bytes are read and dropped, so the server (and loopback) is what is measured."""
    console.log("downloading 1 GiB")

    def once() -> tuple[float, float]:
        url = record["urls"]["content"]
        with PeakRss(pid) as peak, Stopwatch() as clock, api.stream("GET", url) as response:
            received = sum(len(block) for block in response.iter_bytes(BLOCK))
        assert received == SIZE, received
        return clock.seconds, peak.peak

    seconds, peaks = zip(*(once() for _ in range(REPEAT)), strict=True)
    return [
        rates.row("download 1 GiB", list(seconds)),
        worst("server peak RSS, download", list(peaks), "MB"),
    ]


def client_rows(
    api: Api, source: Path, record: dict[str, Any], work: Path, rates: Rates
) -> list[dict[str, Any]]:
    """What a user of the CLI sees: hashing, per-chunk digests, writing and verifying."""
    console.log("the client end to end: upload (4 streams, 8 MiB chunks), then download")
    uploader = Uploader(api, ResumeState(work / "client-state.json"))
    target = work / "downloaded.bin"

    def up() -> None:
        uploaded = uploader.upload(source, UploadOptions(chunk_size=8 * MiB, parallel=4)).file
        api.request("DELETE", uploaded["urls"]["self"])

    def down() -> None:
        download_file(api, record["id"], target)
        target.unlink()

    return [
        rates.row("filedock upload 1 GiB (client, end to end)", timings(up)),
        rates.row("filedock download 1 GiB (client, to disk, verified)", timings(down)),
    ]


def timings(action: Callable[[], None]) -> list[float]:
    out = []
    for _ in range(REPEAT):
        with Stopwatch() as clock:
            action()
        out.append(clock.seconds)
    return out
