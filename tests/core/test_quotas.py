"""The quota arithmetic, without a database: what fits, what is refused and why."""

from __future__ import annotations

import io
import zipfile

import pytest

from filedock.core.quotas import (
    Limits,
    Refusal,
    Usage,
    admission,
    format_size,
    parse_size,
    parse_types,
    room,
    sniff,
    type_allowed,
)
from filedock.errors import Code

GiB = 1024**3
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
USAGE = Usage(files=3, file_bytes=600, uploads=1, staged_bytes=100)  # 700 counted, 4 files


def test_bytes_used_counts_files_and_staged_bytes() -> None:
    assert USAGE.bytes_used == 700


@pytest.mark.parametrize(
    ("limits", "size", "expected"),
    [
        (Limits(), 10**12, None),
        (Limits(max_bytes=1000), 300, None),  # 700 + 300 = the limit exactly
        (Limits(max_bytes=1000), 301, Refusal("max_bytes", 700, 301, 1000)),
        (Limits(max_bytes=1000), None, None),  # unknown length: bounded as bytes arrive
        (Limits(max_file_size=50), 51, Refusal("max_file_size", 0, 51, 50)),
        (Limits(max_file_size=50), 50, None),
        (Limits(max_files=5), 1, None),  # 3 files + 1 upload + this one = 5
        (Limits(max_files=4), 1, Refusal("max_files", 4, 1, 4)),
        (Limits(max_files=4), 0, Refusal("max_files", 4, 1, 4)),  # even an empty file
    ],
)
def test_admission_at_creation(limits: Limits, size: int | None, expected: Refusal | None) -> None:
    assert admission(limits, USAGE, size) == expected


def test_a_late_length_replaces_the_bytes_already_counted() -> None:
    """An upload of unknown length that holds 100 bytes declares 400: 700 - 100 + 400."""
    limits = Limits(max_bytes=1000, max_files=4)  # max_files: the upload is already one
    assert admission(limits, USAGE, 400, counted=100, new=False) is None
    refusal = admission(limits, USAGE, 401, counted=100, new=False)
    assert refusal == Refusal("max_bytes", 600, 401, 1000)


def test_room_is_the_tightest_limit() -> None:
    assert room(Limits(), USAGE, 0) is None
    assert room(Limits(max_files=1), USAGE, 0) is None  # files do not bound bytes
    by_bytes = room(Limits(max_bytes=1000, max_file_size=10_000), USAGE, 0)
    assert by_bytes is not None and (by_bytes.quota, by_bytes.available) == ("max_bytes", 300)
    by_file = room(Limits(max_bytes=1000, max_file_size=250), USAGE, 100)
    assert by_file is not None and (by_file.quota, by_file.available) == ("max_file_size", 150)
    no_usage = room(Limits(max_file_size=250), None, 100)  # usage is read for max_bytes only
    assert no_usage is not None and no_usage.available == 150
    full = room(Limits(max_bytes=500), USAGE, 0)  # over the limit already (it was lowered)
    assert full is not None and full.available == 0


def test_a_refusal_is_a_413_naming_the_numbers() -> None:
    error = Refusal("max_bytes", 700, 301, 1000).error()
    assert (error.code, error.status) == (Code.QUOTA_EXCEEDED, 413)
    assert error.details == {"quota": "max_bytes", "used": 700, "requested": 301, "limit": 1000}


@pytest.mark.parametrize(
    ("content_type", "patterns", "allowed"),
    [
        ("image/png", None, True),
        ("image/png", ("image/*",), True),
        ("Image/PNG; charset=binary", ("image/*",), True),
        ("video/mp4", ("image/*", "video/mp4"), True),
        ("video/webm", ("image/*", "video/mp4"), False),
        ("application/octet-stream", ("image/*",), False),
        ("imagery/png", ("image/*",), False),
    ],
)
def test_type_allowed(content_type: str, patterns: tuple[str, ...] | None, allowed: bool) -> None:
    assert type_allowed(content_type, patterns) is allowed


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1048576", 1048576),
        ("20M", 20 * 1024**2),
        ("20MiB", 20 * 1024**2),
        ("500G", 500 * GiB),
        ("500GiB", 500 * GiB),
        ("500 gib", 500 * GiB),
        ("1.5T", 1536 * GiB),
        ("2GB", 2 * 2**30),  # binary, as every filedock size
        ("10B", 10),
        ("none", None),
        ("", None),  # an empty value lifts the limit like `none`
    ],
)
def test_parse_size(text: str, value: int | None) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["-1", "12X", "G", "0.3K", "1e9"])
def test_parse_size_refuses_what_is_not_a_size(text: str) -> None:
    with pytest.raises(ValueError):
        parse_size(text)


def test_parse_types() -> None:
    assert parse_types("image/*, Video/MP4,image/*") == ("image/*", "video/mp4")
    assert parse_types("none") is None
    for bad in ("image", "/png", "image/", "a/b/c"):
        with pytest.raises(ValueError):
            parse_types(bad)


def test_format_size() -> None:
    assert [format_size(v) for v in (None, 10, 20 * 1024**2, 500 * GiB)] == [
        "-",
        "10 B",
        "20.0 MiB",
        "500.0 GiB",
    ]


def test_limits_changed_keeps_what_is_not_named() -> None:
    limits = Limits(max_bytes=10, max_files=2, allowed_types=("image/*",))
    assert limits.changed(max_files=None) == Limits(max_bytes=10, allowed_types=("image/*",))
    assert limits.changed(True, max_file_size=5) == Limits(max_file_size=5)


def test_sniff_reads_signatures_and_finds_nothing_in_noise() -> None:
    assert sniff(PNG) == ("image/png",)
    assert sniff(b"%PDF-1.7\n" + bytes(64))[0] == "application/pdf"
    assert sniff(b"just some words") == ()
    assert sniff(b"") == ()


def test_sniff_gives_every_format_sharing_a_signature() -> None:
    """A plain zip starts like a .docx: both are candidates, so neither is refused."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("a.txt", "hi")
    found = sniff(archive.getvalue())
    assert "application/zip" in found
    assert "application/vnd.openxmlformats-officedocument.wordprocessingml.document" in found
