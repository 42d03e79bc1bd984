"""What benchmark modules share: rows, a server process, peak RSS, test files, the machine."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from tests.realserver import ServerProcess

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
MB = 1_000_000  # rates are in decimal MB/s, like dd and fio

console = Console(stderr=True)


def row(
    benchmark: str,
    metric: str,
    value: float,
    unit: str,
    reference: str | None = None,
    ratio: float | None = None,
    runs: list[float] | None = None,
) -> dict[str, Any]:
    """One result. `reference` names the metric this one is compared with, `ratio` is
    value / that metric's value, `runs` every measurement when `value` is the best of them."""
    out: dict[str, Any] = {"benchmark": benchmark, "metric": metric, "value": value, "unit": unit}
    optional = {"reference": reference, "ratio": ratio, "runs": runs}
    out.update({key: item for key, item in optional.items() if item is not None})
    return out


def rate(size: int, seconds: float) -> float:
    return size / seconds / MB


def make_random_file(path: Path, size: int, block: int = 8 * MiB) -> Path:
    """Incompressible bytes, written once; the page cache keeps them for the readers.

    They are fsync'ed so that their write-back does not slow down what is measured next.
    """
    with path.open("wb") as handle:
        for start in range(0, size, block):
            handle.write(os.urandom(min(block, size - start)))
        handle.flush()
        os.fsync(handle.fileno())
    return path


@contextmanager
def running_server(data_dir: Path, **env: str) -> Iterator[ServerProcess]:
    """`filedock serve` with default settings (except the data folder and a free port)."""
    server = ServerProcess(data_dir, **env)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * KiB / MB
    raise LookupError(f"{field} not in /proc/{pid}/status")


class PeakRss:
    """Peak resident memory of a process during a `with` block (Linux).

    Writing 5 to /proc/PID/clear_refs resets VmHWM, the kernel's own high-water mark,
    so nothing is missed between samples.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0

    def __enter__(self) -> PeakRss:
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        return self

    def __exit__(self, *exc: object) -> None:
        self.peak = rss_mb(self.pid, "VmHWM")


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cpus": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(memory / GiB, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }
