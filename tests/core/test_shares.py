"""How long a share link lives: the forms `expires_in` accepts, and the ones it refuses."""

from __future__ import annotations

from datetime import timedelta

import pytest

from filedock.core.shares import lifetime
from filedock.errors import FiledockError


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, timedelta(seconds=1)),
        ("3600", timedelta(hours=1)),
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("12H", timedelta(hours=12)),
        (" 1d ", timedelta(days=1)),
        ("2w", timedelta(weeks=2)),
        ("365d", timedelta(days=365)),
    ],
)
def test_accepted_lifetimes(value: int | str, expected: timedelta) -> None:
    assert lifetime(value) == expected


@pytest.mark.parametrize("value", [0, -5, "0s", "366d", "53w", "1 day", "", "d", 10**30])
def test_refused_lifetimes(value: int | str) -> None:
    with pytest.raises(FiledockError) as refused:
        lifetime(value)
    assert (refused.value.status, refused.value.code.value) == (422, "invalid_request")
