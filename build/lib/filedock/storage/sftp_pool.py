"""SSH connections to an SFTP host: where to go, whom to trust, and a small pool.

Host keys are checked against a known_hosts file. A host that has no entry there is
refused unless `accept_unknown` is set; even then a host listed with another key is
always refused (OpenSSH's `StrictHostKeyChecking accept-new`), and the first key seen
is pinned for the life of the process.

The pool keeps a few connections, each with one SFTP session that many coroutines share
(SFTP requests are multiplexed). A connection found dead is dropped and dialled again on
its next use; `run` retries an operation once on a fresh connection.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlsplit

import asyncssh

from filedock.settings import Settings

log = logging.getLogger("filedock.storage.sftp")
T = TypeVar("T")

# What a connection that went away raises; anything else is the operation's own error.
DROPPED: tuple[type[BaseException], ...] = (
    asyncssh.DisconnectError,
    asyncssh.ChannelOpenError,
    asyncssh.SFTPConnectionLost,
    ConnectionError,
)


@dataclass(frozen=True)
class SFTPTarget:
    """sftp://USER[:PASSWORD]@HOST[:PORT]/ROOT plus the FILEDOCK_SFTP_* settings.

    ROOT is absolute; `/~/dir` is relative to the login directory.
    """

    host: str
    port: int
    username: str | None
    password: str | None
    key_file: Path | None
    known_hosts: Path
    accept_unknown: bool
    root: str
    pool_size: int

    @classmethod
    def parse(cls, url: str, settings: Settings) -> SFTPTarget:
        parts = urlsplit(url)
        if not parts.hostname:
            raise ValueError(f"FILEDOCK_STORAGE_URL {url!r}: an sftp:// URL needs a host")
        path = unquote(parts.path) or "/~/"
        root = path[3:] if path.startswith("/~/") else path
        password = unquote(parts.password) if parts.password else None
        if password is None and settings.sftp_password is not None:
            password = settings.sftp_password.get_secret_value()
        return cls(
            host=parts.hostname,
            port=parts.port or 22,
            username=unquote(parts.username) if parts.username else None,
            password=password,
            key_file=settings.sftp_key_file,
            known_hosts=settings.sftp_known_hosts or Path("~/.ssh/known_hosts").expanduser(),
            accept_unknown=settings.sftp_accept_unknown_hosts,
            root=root.rstrip("/") or ("/" if root.startswith("/") else "."),
            pool_size=settings.sftp_pool_size,
        )

    def describe(self) -> str:
        user = f"{self.username}@" if self.username else ""
        return f"sftp://{user}{self.host}:{self.port}/{self.root.lstrip('/')}"


class _HostKeyPolicy(asyncssh.SSHClient):
    """Called by asyncssh only for a key that known_hosts does not already trust."""

    def __init__(
        self, known: asyncssh.SSHKnownHosts, accept_unknown: bool, pinned: dict[str, bytes]
    ) -> None:
        self.known = known
        self.accept_unknown = accept_unknown
        self.pinned = pinned

    def validate_host_public_key(
        self, host: str, addr: str, port: int, key: asyncssh.SSHKey
    ) -> bool:
        if not self.accept_unknown:
            return False
        trusted, authorities, *_ = asyncssh.match_known_hosts(
            self.known, host, addr, port if port != 22 else None
        )
        if trusted or authorities:
            return False  # a known host presenting another key: never accept
        where = f"[{host}]:{port}"
        first = self.pinned.setdefault(where, key.public_data)
        if first == key.public_data:
            log.warning("accepting unknown SSH host key of %s: %s", where, key.get_fingerprint())
        return first == key.public_data


class _Slot:
    """One connection and its SFTP session, dialled when first needed."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.conn: asyncssh.SSHClientConnection | None = None
        self.sftp: asyncssh.SFTPClient | None = None

    def drop(self, sftp: asyncssh.SFTPClient | None = None) -> None:
        if sftp is not None and sftp is not self.sftp:
            return  # already replaced by a newer connection
        if self.conn is not None:
            self.conn.close()
        self.conn, self.sftp = None, None


class Pool:
    def __init__(self, target: SFTPTarget) -> None:
        self.target = target
        self._slots = [_Slot() for _ in range(target.pool_size)]
        self._turn = itertools.count()
        self._pinned: dict[str, bytes] = {}

    async def session(self) -> tuple[_Slot, asyncssh.SFTPClient]:
        """A live SFTP session, round-robin over the slots."""
        slot = self._slots[next(self._turn) % len(self._slots)]
        async with slot.lock:
            if slot.sftp is None or slot.conn is None or slot.conn.is_closed():
                slot.drop()
                slot.conn = await self._connect()
                try:
                    slot.sftp = await slot.conn.start_sftp_client()
                except BaseException:
                    slot.drop()
                    raise
            return slot, slot.sftp

    async def run(self, operation: Callable[[asyncssh.SFTPClient], Awaitable[T]]) -> T:
        """Run `operation`; when the connection turns out dropped, once more on a new one.

        Only for operations that are safe to repeat (everything except streaming a body).
        """
        slot, sftp = await self.session()
        try:
            return await operation(sftp)
        except DROPPED as exc:
            log.info("SFTP connection to %s dropped (%s); reconnecting", self.target.host, exc)
            slot.drop(sftp)
        slot, sftp = await self.session()
        return await operation(sftp)

    async def _connect(self) -> asyncssh.SSHClientConnection:
        target = self.target
        known = (
            asyncssh.read_known_hosts(str(target.known_hosts))
            if target.known_hosts.is_file()
            else asyncssh.import_known_hosts("")
        )
        return await asyncssh.connect(
            target.host,
            target.port,
            username=target.username,
            password=target.password,
            client_keys=[str(target.key_file)] if target.key_file else (),
            known_hosts=known,
            client_factory=lambda: _HostKeyPolicy(known, target.accept_unknown, self._pinned),
            keepalive_interval=30,
            connect_timeout=15,
        )

    async def close(self) -> None:
        for slot in self._slots:
            conn = slot.conn
            slot.drop()
            if conn is not None:
                await conn.wait_closed()
