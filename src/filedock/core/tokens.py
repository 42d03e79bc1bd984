"""JWTs from a team's own identity provider, verified with PyJWT.

The algorithm is pinned by how the verifier is configured (HS256 with a shared secret,
RS256/ES256 with a public key or a JWKS URL), never taken from the token: that is what
refuses `alg: none` and an RS256 public key used as an HS256 secret.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import jwt

from filedock.core.principal import Principal, parse_scopes

ASYMMETRIC = ["RS256", "ES256"]


class TokenRefused(Exception):
    """The token is not one we accept; the message says why (never the token)."""


@dataclass(frozen=True)
class JwtConfig:
    secret: str | None = None
    public_key: str | None = None
    jwks_url: str | None = None
    issuer: str | None = None
    audience: str | None = None
    tenant_claim: str = "tenant"

    @property
    def enabled(self) -> bool:
        return bool(self.secret or self.public_key or self.jwks_url)


class JwtVerifier:
    def __init__(self, config: JwtConfig) -> None:
        self.config = config
        self._jwks = jwt.PyJWKClient(config.jwks_url, cache_keys=True) if config.jwks_url else None

    async def principal(self, token: str) -> Principal:
        """The token's principal: `sub` is the user, the tenant claim the tenant."""
        if self._jwks is not None:  # fetching the key set may block: not on the event loop
            claims = await asyncio.to_thread(self._decode, token)
        else:
            claims = self._decode(token)
        tenant, user = claims.get(self.config.tenant_claim), claims.get("sub")
        if not isinstance(tenant, str) or not tenant or not isinstance(user, str) or not user:
            raise TokenRefused(f"the token needs the claims 'sub' and {self.config.tenant_claim!r}")
        scope = claims.get("scope", "")
        return Principal(tenant, user, parse_scopes(scope if isinstance(scope, str) else ""))

    def _decode(self, token: str) -> dict[str, Any]:
        config = self.config
        key: Any
        if config.secret:
            key, algorithms = config.secret, ["HS256"]
        elif self._jwks is not None:
            try:
                key, algorithms = self._jwks.get_signing_key_from_jwt(token).key, ASYMMETRIC
            except jwt.PyJWKClientError as exc:
                raise TokenRefused(f"no signing key for the token: {exc}") from exc
            except jwt.PyJWTError as exc:
                raise TokenRefused(f"the token is malformed: {exc}") from exc
        else:
            key, algorithms = config.public_key, ASYMMETRIC
        options = {"require": ["exp", "sub"], "verify_aud": config.audience is not None}
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=config.audience,
                issuer=config.issuer,
                options=options,  # type: ignore[arg-type]
                leeway=5,
            )
        except jwt.PyJWTError as exc:
            raise TokenRefused(str(exc)) from exc
        return claims
