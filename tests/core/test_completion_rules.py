"""The pure rules completion rests on: the final size and "every byte is there"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from filedock.core.ledger import require_every_byte
from filedock.core.models import Part, Upload, UploadState
from filedock.core.policy import UploadPolicy
from filedock.errors import FiledockError

POLICY = UploadPolicy(
    default_chunk_size=10,
    max_chunk_size=10,
    min_chunk_size=1,
    max_parts=100,
    max_file_size=1000,
    ttl=timedelta(hours=1),
)


def upload(size: int | None, parts: list[Part]) -> Upload:
    now = datetime.now(UTC)
    return Upload(
        id="u", owner="o", protocol="native", filename="f", content_type="x", metadata={},
        size=size, chunk_size=10, expected_sha256=None, expected_md5=None, storage_key="k",
        state=UploadState.RECEIVING, file_id=None, error_code=None, error=None,
        created_at=now, updated_at=now, expires_at=now + timedelta(hours=1), parts=parts,
    )  # fmt: skip


def test_a_declared_size_wins_and_must_agree() -> None:
    assert POLICY.final_size(upload(25, []), None) == 25
    assert POLICY.final_size(upload(25, []), 25) == 25
    with pytest.raises(FiledockError) as caught:
        POLICY.final_size(upload(25, []), 26)
    assert caught.value.code == "size_mismatch"


def test_a_size_given_at_completion_must_match_the_chunks() -> None:
    parts = [Part(0, 0, 10), Part(1, 10, 10), Part(2, 20, 5)]
    assert POLICY.final_size(upload(None, parts), None) == 25
    assert POLICY.final_size(upload(None, parts), 25) == 25
    for wrong, code in ((24, "size_mismatch"), (1001, "file_too_large")):
        with pytest.raises(FiledockError) as caught:
            POLICY.final_size(upload(None, parts), wrong)
        assert caught.value.code == code
    short_middle = [Part(0, 0, 10), Part(1, 10, 4), Part(2, 20, 5)]
    with pytest.raises(FiledockError) as caught:
        POLICY.final_size(upload(None, short_middle), 25)
    assert caught.value.details["short_chunks"] == [1]


def test_every_byte_or_the_missing_chunks_named() -> None:
    require_every_byte(upload(25, [Part(2, 20, 5), Part(0, 0, 10), Part(1, 10, 10)]), 25)
    require_every_byte(upload(7, [Part(0, 0, 3), Part(1, 3, 4)]), 7)  # appended, any sizes
    with pytest.raises(FiledockError) as caught:
        require_every_byte(upload(250, [Part(3, 30, 10)]), 250)
    assert caught.value.code == "upload_incomplete"
    assert len(caught.value.details["missing_chunks"]) == 24
    assert "and 4 more" in caught.value.message


def test_appended_bytes_missing_are_refused_even_when_no_chunk_index_is() -> None:
    """One appended part of 10 bytes in an upload of 25 whose chunk size covers it all:
    chunk 0 'exists', yet 15 bytes are missing."""
    short = upload(25, [Part(0, 0, 10)])
    short.chunk_size = 64
    with pytest.raises(FiledockError) as caught:
        require_every_byte(short, 25)
    assert caught.value.code == "upload_incomplete"
    assert caught.value.details["bytes_received"] == 10
