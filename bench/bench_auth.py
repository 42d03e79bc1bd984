"""What authentication costs per request: chunk PUT latency anonymous, with an API key,
and with a JWT, on the same machine in the same run (the anonymous server is the
reference). Small chunks (64 KiB) so the per-request cost, not the bytes, is measured.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import jwt

from bench.support import KiB, console, row, running_server

NAME = "auth"
CHUNK = 64 * KiB
CHUNKS = 400
ROUNDS = 3
SECRET = "bench-secret-bench-secret-bench-secret-0123"


def _key(data_dir: Path) -> str:
    env = {**os.environ, "FILEDOCK_DATA_DIR": str(data_dir)}
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "filedock",
            "keys",
            "create",
            "--tenant",
            "bench",
            "--user",
            "bench",
            "--scopes",
            "read,write",
            "--json",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return str(json.loads(made.stdout)["key"])


def _token() -> str:
    claims = {"sub": "bench", "tenant": "bench", "scope": "read write", "exp": time.time() + 3600}
    return jwt.encode(claims, SECRET, algorithm="HS256")


def _latencies(url: str, headers: dict[str, str]) -> list[float]:
    """Milliseconds per chunk PUT, one request at a time."""
    body = os.urandom(CHUNK)
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        made = client.post(
            "/api/v1/uploads",
            json={"filename": "b.bin", "size": CHUNK * CHUNKS, "chunk_size": CHUNK},
        )
        made.raise_for_status()
        upload = made.json()["id"]
        out = []
        for index in range(CHUNKS):
            start = time.perf_counter()
            client.put(f"/api/v1/uploads/{upload}/chunks/{index}", content=body).raise_for_status()
            out.append((time.perf_counter() - start) * 1000)
    return out


def run(work: Path) -> list[dict[str, Any]]:
    keyed_dir = work / "keyed"
    key = _key(keyed_dir)
    setups = {
        "anonymous (auto, loopback)": (work / "open", {}, {}),
        "API key": (keyed_dir, {"FILEDOCK_AUTH": "required"}, {"Authorization": f"Bearer {key}"}),
        "JWT HS256": (
            work / "jwt",
            {"FILEDOCK_JWT_SECRET": SECRET},
            {"Authorization": f"Bearer {_token()}"},
        ),
    }
    medians: dict[str, list[float]] = {name: [] for name in setups}
    for _ in range(ROUNDS):  # alternated, so a busy moment hits every setup alike
        for name, (data_dir, env, headers) in setups.items():
            with running_server(data_dir, FILEDOCK_FSYNC="false", **env) as server:
                medians[name].append(statistics.median(_latencies(server.url, headers)))
                console.log(f"{name}: {medians[name][-1]:.2f} ms")
    reference = min(medians["anonymous (auto, loopback)"])
    rows = []
    for name, runs in medians.items():
        best = min(runs)
        rows.append(
            row(
                NAME,
                f"chunk PUT 64 KiB, median latency, {name}",
                round(best, 3),
                "ms",
                reference=None if best == reference else "anonymous",
                ratio=None if best == reference else round(best / reference, 3),
                runs=[round(r, 3) for r in runs],
            )
        )
    return rows
