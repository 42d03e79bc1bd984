"""What authentication costs per request: chunk PUT latency anonymous, with an API key,
and with a JWT, on the same machine in the same run (the anonymous server is the
reference). Small chunks (64 KiB) so the per-request cost, not the bytes, is measured.
"""

from __future__ import annotations

import asyncio
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
AUTH_CALLS = 2000
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


def _in_process(work: Path) -> dict[str, float]:
    """Microseconds per authentication, in the server's own code (no HTTP, no noise from
    the rest of the request): the figure the latency rows cannot resolve on a busy box."""
    from filedock.settings import Settings
    from filedock.wiring import build_services

    async def measure() -> dict[str, float]:
        settings = Settings(_env_file=None, data_dir=work / "inproc", jwt_secret=SECRET)  # type: ignore[call-arg]
        services = await build_services(settings)
        try:
            _, key = await services.keys.create(tenant="bench", user="bench", scopes="read")
            token = _token()
            out = {}
            for name, credential in (("API key", key), ("JWT HS256", token)):
                await services.auth.principal(credential)
                start = time.perf_counter()
                for _ in range(AUTH_CALLS):
                    await services.auth.principal(credential)
                out[name] = (time.perf_counter() - start) / AUTH_CALLS * 1e6
            return out
        finally:
            await services.close()

    return asyncio.run(measure())


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
    for name, micros in _in_process(work).items():
        rows.append(
            row(NAME, f"authenticate one request in-process, {name}", round(micros, 1), "µs")
        )
    return rows
