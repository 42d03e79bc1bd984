"""The lock service: shared holds for part writes, exclusive holds for completion.

Part writes of one upload run in parallel (shared); completion, abort and expiry need
them all finished and no new ones starting (exclusive). A waiter gives up after
`wait` seconds with UPLOAD_BUSY instead of hanging behind a dead connection.
"""

from __future__ import annotations

import contextlib
from typing import Protocol


class LockService(Protocol):
    def shared(self, name: str, wait: float) -> contextlib.AbstractAsyncContextManager[None]: ...

    def exclusive(self, name: str, wait: float) -> contextlib.AbstractAsyncContextManager[None]: ...
