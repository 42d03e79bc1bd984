"""Who a request is: an API key, a JWT, or (only where it is safe) nobody in particular.

Modes (`FILEDOCK_AUTH`):
- `auto` (default) lets anonymous requests in as the `LOCAL` principal only while the
  server listens on loopback, no JWT is configured and no usable key exists: `make run`
  needs no set-up, and creating the first key closes the door without a restart.
- `required`: every request needs a credential.
- `none`: open; a credential presented is still checked, so its tenant is honoured.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from filedock.core.keys import PREFIX, KeyService
from filedock.core.principal import LOCAL, Principal
from filedock.core.tokens import JwtVerifier, TokenRefused
from filedock.errors import Code, FiledockError

Mode = Literal["auto", "required", "none"]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Authenticator:
    def __init__(
        self, keys: KeyService, jwt: JwtVerifier | None, mode: Mode, *, loopback: bool
    ) -> None:
        self.keys = keys
        self.jwt = jwt
        self.mode = mode
        self.loopback = loopback

    async def principal(self, token: str | None) -> Principal:
        """The principal of `token`, or of an anonymous request; 401 when refused."""
        if token:
            return await self._verify(token)
        if self.mode == "none" or (self.mode == "auto" and await self.anonymous_allowed()):
            return LOCAL
        raise FiledockError(Code.UNAUTHENTICATED)

    async def anonymous_allowed(self) -> bool:
        return self.loopback and self.jwt is None and not await self.keys.any_usable()

    async def refusal(self) -> str | None:
        """Why the server must not start as configured (auto, open to the network), if so."""
        if self.mode != "auto" or self.loopback or self.jwt is not None:
            return None
        if await self.keys.any_usable():
            return None
        return (
            "refusing to listen beyond loopback with no credential configured: create a key "
            "(filedock keys create --tenant T --user U --scopes read,write,admin), set "
            "FILEDOCK_JWT_SECRET, or set FILEDOCK_AUTH=none to run open"
        )

    async def _verify(self, token: str) -> Principal:
        if token.startswith(PREFIX):
            found = await self.keys.authenticate(token)
            if found is None:
                raise FiledockError(
                    Code.UNAUTHENTICATED, "The API key is unknown, expired or revoked."
                )
            return found
        if self.jwt is None:
            raise FiledockError(Code.UNAUTHENTICATED, "The credential is not an API key.")
        try:
            return await self.jwt.principal(token)
        except TokenRefused as exc:
            raise FiledockError(Code.UNAUTHENTICATED, f"The token is refused: {exc}.") from exc
