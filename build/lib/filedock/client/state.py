"""What the client remembers between runs: which upload belongs to which local file.

One JSON file (FILEDOCK_CLIENT_STATE, else $XDG_STATE_HOME/filedock/uploads.json, else
~/.local/state/filedock/uploads.json) maps server + absolute path to the upload id, the
file's size and mtime when it started, and its sha256 (so a resume does not hash the
file again). A file whose size or mtime changed is a new file: its entry is replaced.
Several client processes may share the file, so every change is a locked
read-modify-write followed by an atomic rename.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Entry:
    upload_id: str
    size: int
    mtime_ns: int
    sha256: str


def default_path() -> Path:
    explicit = os.environ.get("FILEDOCK_CLIENT_STATE")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "filedock" / "uploads.json"


class ResumeState:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()

    @staticmethod
    def key(server: str, path: Path) -> str:
        return f"{server.rstrip('/')} {path}"

    def get(self, server: str, path: Path, size: int, mtime_ns: int) -> Entry | None:
        """The entry for this file, if it was started with the same size and mtime."""
        raw = self._read().get(self.key(server, path))
        if not isinstance(raw, dict):
            return None
        try:
            entry = Entry(**raw)
        except TypeError:
            return None
        return entry if (entry.size, entry.mtime_ns) == (size, mtime_ns) else None

    def put(self, server: str, path: Path, entry: Entry) -> None:
        def change(entries: dict[str, Any]) -> None:
            entries[self.key(server, path)] = asdict(entry)

        self._update(change)

    def remove(self, server: str, path: Path) -> None:
        self._update(lambda entries: entries.pop(self.key(server, path), None))

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return {}  # nothing yet, or a torn file from an old crash: forget it
        return data if isinstance(data, dict) else {}

    def _update(self, change: Callable[[dict[str, Any]], object]) -> None:
        with self._locked():
            entries = self._read()
            change(entries)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".uploads-")
            with os.fdopen(fd, "w") as handle:
                json.dump(entries, handle, indent=1, sort_keys=True)
            os.replace(tmp, self.path)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.with_name(self.path.name + ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
