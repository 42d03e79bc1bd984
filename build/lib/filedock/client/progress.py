"""Progress reporting: the client calls a Reporter; the CLI shows it as rich progress bars."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)


class Reporter(Protocol):
    """Told about each phase (hashing, uploading, downloading) and every block moved.

    `advance` is called from worker threads and may be negative: a chunk that failed
    half-way gives its bytes back before it is retried.
    """

    def start(self, description: str, total: int, done: int = 0) -> None: ...
    def advance(self, size: int) -> None: ...


class _Silent:
    def start(self, description: str, total: int, done: int = 0) -> None:
        return None

    def advance(self, size: int) -> None:
        return None


SILENT: Reporter = _Silent()


class _RichReporter:
    """One bar per phase, on stderr so that `--json` output stays clean."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None

    def start(self, description: str, total: int, done: int = 0) -> None:
        self.task = self.progress.add_task(description, total=total, completed=done)

    def advance(self, size: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, size)


@contextmanager
def progress_bars(console: Console | None = None) -> Iterator[Reporter]:
    columns = (
        TextColumn("{task.description:<11}"),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console or Console(stderr=True)) as progress:
        yield _RichReporter(progress)
