"""Who is calling the request being served: what a protected app learns from the token.

Layer: auth. Kept apart from `resource` (verifiers, metadata, challenges) because the server
framework itself needs only this — `Context.auth`, and binding sessions and sealed
`requestState` to their caller — and a server that is not protected should not load more.
"""

from __future__ import annotations

__all__ = ["AccessToken", "current_access", "principal_of"]

import contextvars
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AccessToken:
    """Who is calling, as the token says."""

    subject: str | None
    client_id: str | None
    scopes: frozenset[str]
    expires_at: float | None = None
    issuer: str | None = None
    audience: tuple[str, ...] = ()
    claims: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def principal(self) -> tuple[str | None, str | None]:
        """What a session or a sealed state is bound to: (issuer, subject or client)."""
        return (self.issuer, self.subject or self.client_id)


current_access: contextvars.ContextVar[AccessToken | None] = contextvars.ContextVar(
    "mcpkit_access", default=None
)
"""The caller of the request being served (set by the HTTP app; read by `Context.auth`)."""


def principal_of(access: AccessToken | None) -> str | None:
    """The string a session or a sealed state is bound to (None: nobody authenticated)."""
    if access is None:
        return None
    issuer, who = access.principal
    return f"{issuer or ''} {who or ''}"
