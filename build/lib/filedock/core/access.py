"""Who may read a file: credentials of private files and expiring signed download links.

A file uploaded with a credential (the seed API's JSON object) is private. Only a salted
SHA-256 of the credential is stored, and it is compared in constant time; the salt, not
the server secret, keys it, so rotating the secret never locks anyone out of a file.

Bytes of a private file are fetched through a link signed with HMAC-SHA256 over the file
id and an expiry time. The secret survives restarts (kept in the data folder unless set),
so links handed out stay valid for their whole lifetime.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from filedock.core.models import FileRecord
from filedock.errors import Code, FiledockError

SCHEME = "sha256"
SECRET_FILE = "secret_key"

Credential = dict[str, str]


def normalize_credential(raw: Mapping[str, Any]) -> Credential:
    """Credential values as text, so a JSON form field and query parameters compare equal.

    The seed API accepts `{"user_id": 84793}` at completion and `?user_id=84793` on reads;
    strings stay as they are and anything else becomes its JSON text.
    """
    return {
        str(key): value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        for key, value in raw.items()
    }


def _digest(salt: bytes, credential: Credential) -> str:
    canonical = json.dumps(credential, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(salt + canonical.encode()).hexdigest()


def hash_credential(credential: Credential) -> str:
    """`sha256$<salt>$<digest>`: the scheme is stored so it can be strengthened later."""
    salt = secrets.token_bytes(16)
    return f"{SCHEME}${salt.hex()}${_digest(salt, credential)}"


def credential_matches(stored: str, presented: Credential) -> bool:
    scheme, _, rest = stored.partition("$")
    salt_hex, _, digest = rest.partition("$")
    if scheme != SCHEME:
        return False
    return hmac.compare_digest(digest, _digest(bytes.fromhex(salt_hex), presented))


def require_credential(stored: str | None, presented: Credential | None) -> None:
    """Nothing to check for a public file (`stored` is None); else the same credential."""
    if stored is not None and not (presented and credential_matches(stored, presented)):
        raise FiledockError(Code.ACCESS_DENIED)


def load_secret(configured: str | None, data_dir: Path) -> bytes:
    """The configured secret, or the one generated on first start and kept in data_dir.

    Created with a hard link from a private temporary file, so two processes starting on
    the same folder agree on one secret and never read a half-written file.
    """
    if configured:
        return configured.encode()
    path = data_dir / SECRET_FILE
    if not path.exists():
        temporary = data_dir / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_hex(32).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process won the race; use its secret
        finally:
            temporary.unlink()
    return path.read_bytes().strip()


class Access:
    """Signs and checks download links; decides which URL a client gets for a file."""

    def __init__(self, secret: bytes, link_ttl: timedelta) -> None:
        self._secret = secret
        self.link_ttl = link_ttl

    def signature(self, file_id: str, expires: int) -> str:
        mac = hmac.new(self._secret, f"download\n{file_id}\n{expires}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()

    def download_url(self, file_id: str, *, private: bool, base: str) -> str:
        """The one place that chooses how a client fetches a file's bytes.

        Public files get filedock's plain content URL, private ones the same URL signed
        for `link_ttl`. A backend able to presign (`capabilities.presigned_urls`, S3)
        plugs in here, so private downloads can go straight to the object store.
        """
        url = f"{base}/api/v1/files/{file_id}/content"
        if not private:
            return url
        expires = int((datetime.now(UTC) + self.link_ttl).timestamp())
        query = urlencode({"expires": expires, "signature": self.signature(file_id, expires)})
        return f"{url}?{query}"

    def authorize_download(
        self, record: FileRecord, expires: int | None, signature: str | None
    ) -> None:
        """A private file needs a valid, unexpired signature; any signature sent is checked."""
        if expires is None and signature is None and not record.private:
            return
        if expires is None or signature is None:
            raise FiledockError(
                Code.SIGNATURE_INVALID, "This file is private: download it through a signed link."
            )
        expected = self.signature(record.id, expires)
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            raise FiledockError(Code.SIGNATURE_INVALID, "The download link's signature is wrong.")
        if expires < datetime.now(UTC).timestamp():
            raise FiledockError(Code.SIGNATURE_INVALID, "The download link has expired.")
