"""An MCP server built with the official Python SDK (`mcp` 2.3.0), served over the old
2024-11-05 HTTP+SSE transport (`GET /sse`, `POST /messages/`).

Why: `tests/test_http_sse_legacy.py` points mcpkit's HTTP+SSE client transport (forced, and
found by the Client's fallback from Streamable HTTP) at a server it shares no code with.
`ping_client` makes the server send a request of its own, which must come back over the
stream while the client's call is still waiting; `chatty` sends a log message and progress.

Usage: `python official_sse_server.py PORT` (0: pick a free one). The socket is bound and
listening before the port is printed on stdout, so a reader of that line can connect at once.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

import uvicorn
from mcp.server import MCPServer
from mcp.server.mcpserver import Context

server = MCPServer("official-sse-server", version="9.9.9", instructions="The SDK over SSE.")


@server.tool()
def add(a: int, b: int) -> str:
    """Add two integers."""
    return str(a + b)


@server.tool()
async def ping_client(ctx: Context[Any]) -> str:
    """Ping the client, then say so."""
    await ctx.session.send_ping()
    return "client answered the ping"


@server.tool()
async def chatty(ctx: Context[Any]) -> str:
    """Log one message and report progress twice."""
    await ctx.info("working")
    await ctx.report_progress(1, 2)
    await ctx.report_progress(2, 2)
    return "done"


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(server.sse_app(), log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
