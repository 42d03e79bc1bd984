"""`python -m bench [NAME ...]`: run bench/bench_*.py (or the named ones), print one
table, and write the rows as JSON to bench/results/<UTC time>.json and latest.json."""

from __future__ import annotations

import importlib
import json
import pkgutil
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from rich.console import Console
from rich.table import Table

import bench
from bench.support import console, machine

HERE = Path(__file__).parent
WORK = HERE / ".work"  # on the repository's disk, gitignored
RESULTS = HERE / "results"
FIELDS = {"benchmark", "metric", "value", "unit"}


def discover(names: list[str]) -> list[ModuleType]:
    found = sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")
    )
    wanted = [f"bench_{n.removeprefix('bench_')}" for n in names] or found
    unknown = sorted(set(wanted) - set(found))
    if unknown:
        raise SystemExit(f"no such benchmark: {', '.join(unknown)} (have: {', '.join(found)})")
    return [importlib.import_module(f"bench.{name}") for name in wanted]


def run(module: ModuleType) -> list[dict[str, Any]]:
    """The module's rows; its work folder is its own, even if another run is going on."""
    WORK.mkdir(exist_ok=True)
    name = module.__name__.rpartition(".")[2]
    work = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=WORK))
    console.rule(name)
    try:
        rows: list[dict[str, Any]] = module.run(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for item in rows:
        if not item.keys() >= FIELDS:
            raise ValueError(f"{name} returned a row without {FIELDS - item.keys()}")
    return rows


def table(rows: list[dict[str, Any]]) -> Table:
    out = Table("benchmark", "metric", "value", "unit", "vs", "ratio", title="filedock bench")
    for item in rows:
        ratio = item.get("ratio")
        out.add_row(
            item["benchmark"],
            item["metric"],
            f"{item['value']:,.3g}" if item["value"] < 100 else f"{item['value']:,.0f}",
            item["unit"],
            item.get("reference", ""),
            "" if ratio is None else f"{ratio:.0%}",
        )
    return out


def save(rows: list[dict[str, Any]], started: datetime) -> Path:
    RESULTS.mkdir(exist_ok=True)
    document = {"started": started.isoformat(), "machine": machine(), "rows": rows}
    text = json.dumps(document, indent=2) + "\n"
    path = RESULTS / f"{started:%Y%m%dT%H%M%SZ}.json"
    path.write_text(text)
    (RESULTS / "latest.json").write_text(text)
    return path


def main(names: list[str]) -> int:
    """Run every benchmark; one that fails is reported and the others still count."""
    started = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    failed = []
    for module in discover(names):
        try:
            rows += run(module)
        except Exception:
            console.print_exception()
            failed.append(module.__name__)
    Console(width=None if sys.stdout.isatty() else 160).print(table(rows))  # logs: no wrap
    console.print(f"saved {save(rows, started)}")
    if failed:
        console.print(f"[red]failed:[/red] {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
