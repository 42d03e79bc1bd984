"""The documentation stays true: every error code is documented."""

from __future__ import annotations

from pathlib import Path

from filedock.errors import ERRORS

ROOT = Path(__file__).resolve().parents[1]


def test_every_error_code_is_in_the_api_guide() -> None:
    guide = (ROOT / "docs" / "api.md").read_text()
    missing = [
        code.value for code in ERRORS if f"| `{code.value}` | {ERRORS[code].status} |" not in guide
    ]
    assert missing == []


def test_readme_shows_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
