"""Runs the storage contract on every backend the `backend` fixture provides."""

from __future__ import annotations

from tests.storage.contract import Contract


class TestContract(Contract):
    pass
