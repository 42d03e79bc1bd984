"""The pure path rules: one spelling per place, and the names `rename` tries."""

from __future__ import annotations

import pytest

from filedock.core.paths import normalize_path, normalize_prefix, renamed
from filedock.errors import FiledockError


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("a/b.txt", "/a/b.txt"),
        ("/a//b.txt", "/a/b.txt"),
        ("/a/b/", "/a/b"),
        ("/cafe\u0301.txt", "/caf\u00e9.txt"),  # decomposed accents compose (NFC)
        (" /x ", "/x"),
    ],
)
def test_one_spelling_per_place(raw: str, normal: str) -> None:
    assert normalize_path(raw) == normal


@pytest.mark.parametrize("raw", ["", "/", "//", "/a/../b", "/./a", "/a\nb", "/" + "é" * 600])
def test_refused_paths(raw: str) -> None:
    with pytest.raises(FiledockError) as caught:
        normalize_path(raw)
    assert caught.value.code == "path_invalid"


def test_prefixes_are_folders() -> None:
    assert normalize_prefix("/") == "/"
    assert normalize_prefix("videos") == "/videos/"
    assert normalize_prefix("/videos/2026/") == "/videos/2026/"


@pytest.mark.parametrize(
    ("path", "attempt", "name"),
    [
        ("/a/report.pdf", 1, "/a/report (1).pdf"),
        ("/a/archive.tar.gz", 2, "/a/archive.tar (2).gz"),
        ("/README", 1, "/README (1)"),
        ("/.env", 3, "/.env (3)"),
    ],
)
def test_rename_candidates(path: str, attempt: int, name: str) -> None:
    assert renamed(path, attempt) == name
