"""Who is asking: a principal is (tenant, user, scopes), handed to every core operation.

A tenant is the isolation boundary (an application or team); a user is an actor inside
it. Scopes are coarse on purpose: `read` (list, inspect, download; see own uploads),
`write` (create and drive own uploads; rename, move and delete the tenant's files) and
`admin` (everything in the tenant: every user's uploads, keys, quotas). `admin` implies
the other two, `write` implies `read`, so a key never needs a list of every scope.
"""

from __future__ import annotations

from dataclasses import dataclass

from filedock.errors import Code, FiledockError

READ, WRITE, ADMIN = "read", "write", "admin"
SCOPES = (READ, WRITE, ADMIN)
_IMPLIED = {ADMIN: {ADMIN, WRITE, READ}, WRITE: {WRITE, READ}, READ: {READ}}
DEFAULT_TENANT = "default"


def parse_scopes(text: str) -> frozenset[str]:
    """`read,write` or `read write` (the JWT `scope` claim) into the scopes they grant.

    Unknown words are ignored, so an identity provider's other scopes do not break us.
    """
    words = text.replace(",", " ").split()
    granted: set[str] = set()
    for word in words:
        granted |= _IMPLIED.get(word.strip().lower(), set())
    return frozenset(granted)


def check_scopes(text: str) -> str:
    """The scopes of `text` written canonically; refuses a word that is not a scope."""
    words = {w.strip().lower() for w in text.replace(",", " ").split()}
    unknown = words - set(SCOPES)
    if not words or unknown:
        raise ValueError(f"scopes must be among {', '.join(SCOPES)}; got {text!r}")
    return ",".join(s for s in SCOPES if s in parse_scopes(text))


@dataclass(frozen=True)
class Principal:
    tenant: str
    user: str
    scopes: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.scopes

    def require(self, scope: str) -> None:
        """403 `insufficient_scope` unless the principal holds `scope`."""
        if scope not in self.scopes:
            raise FiledockError(
                Code.INSUFFICIENT_SCOPE,
                f"This needs the {scope!r} scope; the credential grants "
                f"{', '.join(sorted(self.scopes)) or 'none'}.",
                required=scope,
            )

    def owns(self, tenant: str, user: str | None) -> bool:
        """May act on an upload of (`tenant`, `user`): its creator or a tenant admin."""
        return tenant == self.tenant and (self.is_admin or user == self.user)


# The principal of `FILEDOCK_AUTH=none`, of `auto` on loopback before any key exists,
# and of the operator's own CLI commands that act on the embedded setup.
LOCAL = Principal(DEFAULT_TENANT, "local", frozenset(SCOPES))
