"""A tiny MCP server built with the official Python SDK (`mcp` 2.3.0), served over stdio.

Why: `tests/test_interop.py` points mcpkit's client at it, so mcpkit is checked against an
implementation it shares no code with, in both eras (the SDK serves the legacy handshake and
the 2026-07-28 per-request era on one stdio connection). `ping_client` makes the server ping
its client back in the middle of a tool call: the server->client request only the legacy
era allows.
"""

from __future__ import annotations

from typing import Any

from mcp.server import MCPServer
from mcp.server.mcpserver import Context

server = MCPServer("official-sdk-server", version="9.9.9", instructions="The SDK's own server.")


@server.tool()
def add(a: int, b: int) -> str:
    """Add two integers."""
    return str(a + b)


@server.tool()
def shout(text: str) -> str:
    """Return the text in capitals."""
    return text.upper()


@server.tool()
async def ping_client(ctx: Context[Any]) -> str:
    """Ping the client (legacy sessions only), then say so."""
    await ctx.session.send_ping()
    return "client answered the ping"


if __name__ == "__main__":
    server.run("stdio")
