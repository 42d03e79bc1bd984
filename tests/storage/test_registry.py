"""Picking a backend from the storage URL, and what a broken install is told."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from filedock.settings import Settings, SettingsError
from filedock.storage.registry import open_storage


@pytest.mark.parametrize(
    ("url", "library"), [("sftp://me@127.0.0.1/srv", "asyncssh"), ("s3://bucket", "aiobotocore")]
)
def test_a_missing_client_library_names_the_command_that_reinstalls_it(
    url: str, library: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, library, None)  # import now raises ImportError
    settings = Settings(_env_file=None, data_dir=tmp_path, storage_url=url)  # type: ignore[call-arg]
    with pytest.raises(SettingsError) as raised:
        open_storage(settings)
    message = str(raised.value)
    assert library in message
    assert "make run" in message and "pip install -c constraints.txt ." in message
    assert "filedock[" not in message  # would fetch another package from the registry
