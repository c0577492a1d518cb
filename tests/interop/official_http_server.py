"""An MCP server built with the official Python SDK (`mcp` 2.3.0), served over Streamable HTTP.

Why: `tests/test_http_client.py` points mcpkit's HTTP client transport at it, so the transport
is checked against an HTTP server it shares no code with, in both eras (the SDK serves legacy
sessions and the 2026-07-28 single-exchange POSTs on one endpoint, `/mcp`). Its responses are
SSE streams (the SDK's default), which exercises mcpkit's SSE parser; `ping_client` makes the
server ping its client in the middle of a legacy tool call, a request that arrives on the
POST's response stream while that POST is still open.

Usage: `python official_http_server.py PORT` (0: pick a free one). The socket is bound and
listening before the port is printed on stdout, so a reader of that line can connect at once.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

import uvicorn
from mcp.server import MCPServer
from mcp.server.mcpserver import Context

server = MCPServer("official-http-server", version="9.9.9", instructions="The SDK over HTTP.")


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


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(server.streamable_http_app(), log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
