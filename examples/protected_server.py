"""An MCP server that only answers callers with an access token, end to end on one machine.

    mcpkit auth-server --port 9000 --scopes mcp:tools,notes:write,offline_access  # development only
    python examples/protected_server.py            # this server, at http://127.0.0.1:8000/mcp
    mcpkit call http://127.0.0.1:8000/mcp whoami   # 401 → the browser asks you to approve

The server publishes where its tokens come from (RFC 9728 metadata), checks each token's
signature, issuer, expiry and audience (it must name this server), and needs the
`notes:write` scope for one tool: the CLI then asks for it (step-up) when that tool is called.
"""

from __future__ import annotations

import os

from mcpkit.auth import JWTVerifier, ResourceServer
from mcpkit.server import Context, Server
from mcpkit.server.http import MCPHTTPApp, http_app

ISSUER = os.environ.get("AUTH_ISSUER", "http://127.0.0.1:9000")

server = Server("protected-notes", instructions="Notes, for whoever the token says you are.")
notes: dict[str, list[str]] = {}


@server.tool()
def whoami(ctx: Context) -> str:
    """Who the access token says is calling, and what it allows."""
    assert ctx.auth is not None  # the app refuses requests without a good token
    return f"{ctx.auth.subject} (client {ctx.auth.client_id}): {' '.join(sorted(ctx.auth.scopes))}"


@server.tool(scopes=["notes:write"])
def add_note(text: str, ctx: Context) -> int:
    """Keep a note; needs the notes:write scope. Returns how many notes you have."""
    assert ctx.auth is not None
    mine = notes.setdefault(ctx.auth.subject or "?", [])
    mine.append(text)
    return len(mine)


def app(resource: str | None = None) -> MCPHTTPApp:
    """The ASGI app: the server behind OAuth (tokens from `ISSUER`)."""
    protection = ResourceServer(
        JWTVerifier(ISSUER, jwks_url=f"{ISSUER}/jwks"),
        authorization_servers=[ISSUER],
        resource=resource,
        scopes_supported=["mcp:tools", "notes:write"],
        required_scopes=["mcp:tools"],
    )
    return http_app(server, auth=protection)


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app(), host="127.0.0.1", port=8000, log_level="warning")
