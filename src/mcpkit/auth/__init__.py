"""Authorization for MCP over HTTP: OAuth 2.1 on both sides.

Layer: auth (protocol and transports below it). Client side: `Client(url, auth=OAuth(...))`
authorizes on the first 401 (`oauth`; `redirects` holds the browser step, `store` where
tokens are kept, `discovery` how the authorization server is found, `grants` the
browserless grants, `dpop` proof-of-possession). Server side: `http_app(server,
auth=ResourceServer(...))` (`resource`; the caller that `ctx.auth` shows is in `caller`).
Names load on first use, so a server pays only for what it imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcpkit.auth.caller import AccessToken
    from mcpkit.auth.grants import ClientCredentials, EnterpriseManaged, JwtBearer
    from mcpkit.auth.oauth import OAuth
    from mcpkit.auth.redirects import HeadlessRedirect, LoopbackRedirect, RedirectHandler
    from mcpkit.auth.resource import (
        IntrospectionVerifier,
        JWTVerifier,
        ResourceServer,
        TokenVerifier,
    )
    from mcpkit.auth.store import FileTokenStore, MemoryTokenStore, TokenStore

_WHERE = {
    "AccessToken": "caller",
    "ClientCredentials": "grants",
    "EnterpriseManaged": "grants",
    "FileTokenStore": "store",
    "HeadlessRedirect": "redirects",
    "IntrospectionVerifier": "resource",
    "JWTVerifier": "resource",
    "JwtBearer": "grants",
    "LoopbackRedirect": "redirects",
    "MemoryTokenStore": "store",
    "OAuth": "oauth",
    "RedirectHandler": "redirects",
    "ResourceServer": "resource",
    "TokenStore": "store",
    "TokenVerifier": "resource",
}

__all__ = [
    "AccessToken",
    "ClientCredentials",
    "EnterpriseManaged",
    "FileTokenStore",
    "HeadlessRedirect",
    "IntrospectionVerifier",
    "JWTVerifier",
    "JwtBearer",
    "LoopbackRedirect",
    "MemoryTokenStore",
    "OAuth",
    "RedirectHandler",
    "ResourceServer",
    "TokenStore",
    "TokenVerifier",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'mcpkit.auth' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"mcpkit.auth.{module}"), name)
    globals()[name] = value
    return value
