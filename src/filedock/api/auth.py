"""The one dependency that says who a request is, and what every route may assume.

Every route but the few deliberately open ones (operations, docs, share links, the web
app's files; tests/api/test_route_access.py names them) takes `PrincipalDep`. Reading
routes (GET, HEAD) need the `read` scope and the others `write`, decided here once, so a
route cannot forget it; routes that need more (`admin`) ask for `AdminDep`.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import Depends, Request

from filedock.api.deps import ServicesDep
from filedock.core.access import Credential, normalize_credential
from filedock.core.principal import ADMIN, READ, WRITE, Principal
from filedock.errors import Code, FiledockError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_PARAMETER = "access_token"  # for WebSocket, SSE and browser downloads; never logged
CREDENTIAL_HEADER = "Filedock-Credential"  # a private file's credential, as a JSON object


def presented_token(request: Request) -> str | None:
    """`Authorization: Bearer <token>`, else the `access_token` query parameter."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.query_params.get(TOKEN_PARAMETER) or None


async def current_principal(request: Request, services: ServicesDep) -> Principal:
    principal = await services.auth.principal(presented_token(request))
    principal.require(READ if request.method in SAFE_METHODS else WRITE)
    return principal


async def current_admin(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    principal.require(ADMIN)
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]
AdminDep = Annotated[Principal, Depends(current_admin)]


async def principal_unless_signed(request: Request, services: ServicesDep) -> Principal | None:
    """None for a request carrying a signed link (the link is the credential); else the
    principal, as for every other route."""
    if {"signature", "expires"} & request.query_params.keys():
        return None
    return await current_principal(request, services)


def presented_credential(request: Request) -> Credential | None:
    """A private file's credential sent to the native API (`Filedock-Credential: {...}`)."""
    raw = request.headers.get(CREDENTIAL_HEADER)
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise FiledockError(
            Code.INVALID_HEADER,
            f"{CREDENTIAL_HEADER} must be a JSON object.",
            header=CREDENTIAL_HEADER,
        )
    return normalize_credential(value)


CredentialDep = Annotated[Credential | None, Depends(presented_credential)]
