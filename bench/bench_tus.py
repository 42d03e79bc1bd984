"""tus: tus-js-client uploading 1 GiB to filedock and to @tus/server, the official Node server.

Both run on this machine over loopback, one after the other in alternation, for each
client setting (8 MiB chunks, and the whole file in one PATCH). The npm packages are
installed by this benchmark into its work folder. @tus/server stores with @tus/file-store,
which never fsyncs; filedock fsyncs every PATCH before it answers (that is what lets a
client resume after a crash from an offset that is true), so filedock also runs once more
with FILEDOCK_FSYNC=false, the like-for-like comparison. Figures: the best of REPEAT runs
(the machine may be shared), throughput ratio to @tus/server, and each server's peak RSS.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from tests.realserver import free_port

from bench.support import (
    GiB,
    MiB,
    PeakRss,
    console,
    make_random_file,
    rate,
    row,
    running_server,
)

NAME = "tus"
SIZE = GiB
REPEAT = 3
MODES = (("8 MiB chunks", 8 * MiB), ("one PATCH", None))
PACKAGES = ("tus-js-client@4.3.1", "@tus/server@2.4.5", "@tus/file-store@2.1.1")
CLIENT = Path(__file__).parents[1] / "tests" / "tus" / "node" / "upload.mjs"
TUS_SERVER = """
import http from 'node:http'
import { Server } from '@tus/server'
import { FileStore } from '@tus/file-store'
const [port, directory] = process.argv.slice(2)
const tus = new Server({ path: '/files', datastore: new FileStore({ directory }) })
http.createServer((req, res) => tus.handle(req, res))
  .listen(Number(port), '127.0.0.1', () => console.log('ready'))
"""
REFERENCE = "@tus/server"


@dataclass
class Target:
    """A server under test: its name, upload endpoint, pid, and what was measured."""

    name: str
    endpoint: str
    pid: int
    seconds: dict[str, list[float]] = field(default_factory=dict)
    peaks: list[float] = field(default_factory=list)


def run(work: Path) -> list[dict[str, Any]]:
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise RuntimeError("the tus benchmark needs node and npm")
    console.log(f"installing {', '.join(PACKAGES)} with npm")
    node = install(work / "node")
    console.log(f"writing a {SIZE // MiB} MiB test file")
    source = make_random_file(work / "source.bin", SIZE)
    digest = sha256_file(source)
    with (
        running_server(work / "filedock") as durable,
        running_server(work / "filedock-nofsync", FILEDOCK_FSYNC="false") as fast,
        tus_node_server(node, work / "tus-node") as reference,
    ):
        assert durable.process is not None and fast.process is not None
        targets = [
            Target("filedock", f"{durable.url}/files/", durable.process.pid),
            Target("filedock, fsync off", f"{fast.url}/files/", fast.process.pid),
            reference,
        ]
        for label, chunk in MODES:
            for attempt in range(REPEAT):
                for target in targets:  # alternating, so drift in the machine hits all
                    console.log(f"{target.name}: 1 GiB, {label} ({attempt + 1}/{REPEAT})")
                    upload(node, target, source, label, chunk, digest if attempt == 0 else None)
    return rows(targets)


def install(folder: Path) -> Path:
    folder.mkdir()
    (folder / "package.json").write_text('{"private": true, "type": "module"}\n')
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--silent", *PACKAGES],
        cwd=folder,
        check=True,
        timeout=600,
    )
    shutil.copy(CLIENT, folder / "upload.mjs")
    (folder / "tus-server.mjs").write_text(TUS_SERVER)
    return folder


@contextmanager
def tus_node_server(node: Path, store: Path) -> Iterator[Target]:
    store.mkdir()
    port = free_port()
    process = subprocess.Popen(
        ["node", "tus-server.mjs", str(port), str(store)], cwd=node, stdout=subprocess.PIPE
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == b"ready"
        yield Target(REFERENCE, f"http://127.0.0.1:{port}/files", process.pid)
    finally:
        process.terminate()
        process.wait(10)
        assert process.stdout is not None
        process.stdout.close()


def upload(
    node: Path, target: Target, source: Path, label: str, chunk: int | None, digest: str | None
) -> None:
    """One timed upload (the client's own clock, start to success), checked, then freed."""
    spec: dict[str, Any] = {"endpoint": target.endpoint, "file": str(source), "reportEvery": SIZE}
    if chunk:
        spec["chunkSize"] = chunk
    with PeakRss(target.pid) as peak:
        done = subprocess.run(
            ["node", "upload.mjs", json.dumps(spec)],
            cwd=node,
            capture_output=True,
            text=True,
            timeout=600,
        )
    result = json.loads(done.stdout.splitlines()[-1])
    if result["event"] != "success":
        raise RuntimeError(f"{target.name}: {result} {done.stderr}")
    target.seconds.setdefault(label, []).append(result["seconds"])
    target.peaks.append(peak.peak)
    tus = {"Tus-Resumable": "1.0.0"}
    with httpx.Client(timeout=120) as http:
        assert http.head(result["url"], headers=tus).headers["Upload-Offset"] == str(SIZE)
        if digest is not None:  # byte-exact, once per server and mode
            with http.stream("GET", result["url"]) as answer:
                hasher = hashlib.sha256()
                for block in answer.iter_bytes(MiB):
                    hasher.update(block)
            if hasher.hexdigest() != digest:
                raise RuntimeError(f"{target.name} stored other bytes than were sent")
        http.delete(result["url"], headers=tus)  # frees the GiB before the next run
    time.sleep(1)  # let the write-back of the last run settle


def rows(targets: list[Target]) -> list[dict[str, Any]]:
    reference = next(t for t in targets if t.name == REFERENCE)
    found = []
    for label, _ in MODES:
        best = rate(SIZE, min(reference.seconds[label]))
        compared = f"{REFERENCE}: upload 1 GiB, tus-js-client, {label}"
        for target in targets:
            runs = [rate(SIZE, s) for s in target.seconds[label]]
            metric = f"{target.name}: upload 1 GiB, tus-js-client, {label}"
            if target is reference:
                found.append(row(NAME, metric, max(runs), "MB/s", runs=runs))
            else:
                ratio = max(runs) / best
                found.append(row(NAME, metric, max(runs), "MB/s", compared, ratio, runs))
    found += [row(NAME, f"{t.name}: peak RSS while uploading", max(t.peaks), "MB") for t in targets]
    return found


def sha256_file(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(8 * MiB):
            hasher.update(block)
    return hasher.hexdigest()
