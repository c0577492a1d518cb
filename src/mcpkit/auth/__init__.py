"""Authorization for MCP over HTTP: OAuth 2.1 on the client side (`OAuth`).

Layer: auth (protocol and transports below it). `Client(url, auth=OAuth(...))` authorizes
on the first 401; `redirects` holds the browser step, `store` where tokens are kept,
`discovery` how the authorization server is found, `challenge` how `WWW-Authenticate` is read.
"""

from __future__ import annotations

from mcpkit.auth.grants import ClientCredentials, EnterpriseManaged, JwtBearer
from mcpkit.auth.oauth import OAuth
from mcpkit.auth.redirects import HeadlessRedirect, LoopbackRedirect, RedirectHandler
from mcpkit.auth.store import FileTokenStore, MemoryTokenStore, TokenStore

__all__ = [
    "ClientCredentials",
    "EnterpriseManaged",
    "FileTokenStore",
    "HeadlessRedirect",
    "JwtBearer",
    "LoopbackRedirect",
    "MemoryTokenStore",
    "OAuth",
    "RedirectHandler",
    "TokenStore",
]
