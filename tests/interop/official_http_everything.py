"""The official Python SDK's (`mcp` 2.3.0) "everything" server, served over Streamable HTTP.

Why: `tests/test_interop_http.py` points mcpkit's client at it in each of the SDK's HTTP modes,
so mcpkit's HTTP client is checked against a server it shares no code with. It serves the
tools of `official_everything.py` (which ask the client through the SDK's resolvers: real
server->client requests in a legacy session, `InputRequiredResult` rounds in the 2026-07-28
era) plus `chatty` (logs, then reports progress) and `forecast` (structured output).

Usage, from the repository root (it imports `tests.interop.official_everything`):
`python -m tests.interop.official_http_everything PORT [--json] [--stateless]` (PORT 0: pick
a free one). `--json` answers every POST with one JSON body instead of an SSE stream;
`--stateless` keeps no legacy sessions (no `Mcp-Session-Id`). The socket is bound and
listening before the port is printed on stdout, so a reader of that line can connect at once.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

import uvicorn
from mcp.server.mcpserver import Context
from pydantic import BaseModel

from tests.interop.official_everything import server


class Forecast(BaseModel):
    city: str
    temperature: float


@server.tool()
def forecast(city: str) -> Forecast:
    """Forecast the weather for a city (structured output)."""
    return Forecast(city=city, temperature=21.5)


@server.tool()
async def chatty(ctx: Context[Any]) -> str:
    """Log at debug, info and error, then report three progress steps."""
    await ctx.debug("debug detail")
    await ctx.info("working")
    await ctx.error("something odd")
    for step in (1, 2, 3):
        await ctx.report_progress(step, 3, f"step {step}")
    return "done"


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    app = server.streamable_http_app(
        json_response="--json" in sys.argv, stateless_http="--stateless" in sys.argv
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    print(sock.getsockname()[1], flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])


if __name__ == "__main__":
    main()
