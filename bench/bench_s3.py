"""Storage backends on real servers: S3 (moto's server) against a direct boto3 upload, and
how long completion takes for 64 MiB and 1 GiB on local disk, S3 and SFTP (sshd).

The filedock figures come from a real `filedock serve` process per backend, fed by the
same lean chunk uploader as the native benchmark (8 MiB chunks). The baseline is boto3's
own multipart upload (`upload_file`, 8 MiB parts) of the same file to the same S3 server,
with as many threads as filedock gets streams. Completion is timed after a one-stream
upload, so the in-order hash covers every byte and the complete call does no hashing
pass: what is left is assembly, which must not grow with the size. moto assembles a
multipart upload by concatenating the parts in its own process, so on moto the S3 figure
grows with the size where AWS or MinIO would not; the row says so.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.storage.servers import MotoServer, SSHServer

from bench.bench_native import timed_upload
from bench.support import GiB, MiB, Stopwatch, console, make_random_file, rate, row
from bench.support import running_server as filedock_server
from filedock.client import Api

NAME = "storage"
SIZE = GiB
SMALL = 64 * MiB
CHUNK = 8 * MiB
BUCKET = "filedock-bench"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}


def run(work: Path) -> list[dict[str, Any]]:
    console.log(f"writing a {SIZE // MiB} MiB test file and its first {SMALL // MiB} MiB")
    source = make_random_file(work / "source.bin", SIZE)
    small = work / "small.bin"
    with source.open("rb") as handle:
        small.write_bytes(handle.read(SMALL))
    rows: list[dict[str, Any]] = []
    with _server(MotoServer(work / "moto")) as moto:
        endpoint = moto.url
        s3_env = {
            **CREDENTIALS,
            "FILEDOCK_STORAGE_URL": f"s3://{BUCKET}/filedock?endpoint={endpoint}",
        }
        timed = {n: boto3_upload(endpoint, source, n) for n in (1, 4)}
        direct = {n: speed for n, (speed, _complete) in timed.items()}
        rows += [
            row(NAME, f"boto3 direct to S3, 1 GiB, {n} thread{'s'[: n - 1]}", v, "MB/s")
            for n, v in direct.items()
        ]
        rows.append(
            row(NAME, "moto's own CompleteMultipartUpload, 1 GiB (boto3)", timed[1][1], "s")
        )
        rows += backend_rows("s3", work, s3_env, source, small, direct)
    with _server(SSHServer(work / "sshd")) as sshd:
        sftp_env = {
            "FILEDOCK_STORAGE_URL": sshd.url(work / "sftp-root"),
            "FILEDOCK_SFTP_KEY_FILE": str(sshd.user_key),
            "FILEDOCK_SFTP_KNOWN_HOSTS": str(sshd.known_hosts),
        }
        rows += backend_rows("sftp", work, sftp_env, source, small, {})
    rows += backend_rows("local", work, {}, source, small, {})
    return rows


@contextmanager
def _server(server: MotoServer | SSHServer) -> Iterator[Any]:
    saved = {name: os.environ.get(name) for name in CREDENTIALS}
    os.environ.update(CREDENTIALS)  # moto accepts any; boto3 and the server read these
    server.start()
    try:
        yield server
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def boto3_upload(endpoint: str, source: Path, threads: int) -> tuple[float, float]:
    """MB/s of boto3's managed multipart upload (8 MiB parts) straight to the server, and
    the seconds its CompleteMultipartUpload call took (the server's own assembly time)."""
    import boto3
    from boto3.s3.transfer import TransferConfig

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    if BUCKET not in [b["Name"] for b in client.list_buckets().get("Buckets", [])]:
        client.create_bucket(Bucket=BUCKET)
    config = TransferConfig(
        multipart_threshold=CHUNK,
        multipart_chunksize=CHUNK,
        max_concurrency=threads,
        use_threads=threads > 1,
    )
    marks: list[float] = []
    for event in ("before-call", "after-call"):
        client.meta.events.register(
            f"{event}.s3.CompleteMultipartUpload", lambda **_: marks.append(time.perf_counter())
        )
    console.log(f"boto3: uploading 1 GiB with {threads} thread(s)")
    with Stopwatch() as clock:
        client.upload_file(str(source), BUCKET, f"direct/{threads}", Config=config)
    client.delete_object(Bucket=BUCKET, Key=f"direct/{threads}")
    return rate(SIZE, clock.seconds), marks[-1] - marks[0]


def backend_rows(
    backend: str,
    work: Path,
    env: dict[str, str],
    source: Path,
    small: Path,
    baseline: dict[int, float],
) -> list[dict[str, Any]]:
    """Upload throughput (against `baseline` by stream count) and completion latency."""
    rows: list[dict[str, Any]] = []
    env = {**env, "FILEDOCK_COMPLETE_WAIT_SECONDS": "600", "FILEDOCK_FSYNC": "true"}
    with filedock_server(work / f"data-{backend}", **env) as server, Api(server.url) as api:
        assert server.process is not None
        pid = server.process.pid
        latency: dict[int, float] = {}
        for path, streams in ((small, 1), (source, 1), (source, 4)):
            size = path.stat().st_size
            label = f"{size // MiB} MiB" if size < GiB else "1 GiB"
            console.log(f"{backend}: uploading {label} through filedock, {streams} stream(s)")
            done = timed_upload(api, pid, path, CHUNK, streams)
            api.request("DELETE", done.record["urls"]["self"])
            if streams == 1:
                latency[size] = done.completing
            if size == SIZE:
                speed = rate(SIZE, done.seconds)
                direct = baseline.get(streams)
                rows.append(
                    row(
                        NAME,
                        f"{backend}: filedock upload 1 GiB, {streams} stream{'s'[: streams - 1]}",
                        speed,
                        "MB/s",
                        f"boto3 direct, {streams} thread{'s'[: streams - 1]}" if direct else None,
                        speed / direct if direct else None,
                    )
                )
                rows.append(
                    row(
                        NAME,
                        f"{backend}: server peak RSS, {streams} stream(s)",
                        done.peak_rss,
                        "MB",
                    )
                )
        rows += [
            row(NAME, f"{backend}: complete → downloadable, 64 MiB", latency[SMALL], "s"),
            row(
                NAME,
                f"{backend}: complete → downloadable, 1 GiB",
                latency[SIZE],
                "s",
                "the same for 64 MiB",
                latency[SIZE] / latency[SMALL],
            ),
        ]
    return rows
