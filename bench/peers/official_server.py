"""The official Python SDK's benchmark server (PyPI `mcp` 2.x, the decorator `MCPServer`).

    python bench/peers/official_server.py                    stdio
    python bench/peers/official_server.py --http --port N [--json|--sse|--stateless]

The same command line, tools and uvicorn settings as `bench/server.py`, so the two differ only
in the framework. `echo` is declared with `structured_output=False` so that its answer is
exactly one text block (the SDK would otherwise add `{"result": text}`); `add` returns an
int, which the SDK wraps as `structuredContent {"result": n}` plus a text block. Tools are
`async def` like mcpkit's (`--sync` for plain functions, run in a worker thread).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from mcp.server.mcpserver import MCPServer

MAX_SESSIONS = 100_000


def make_server(*, sync: bool = False) -> MCPServer:
    server = MCPServer("official-bench", log_level="WARNING")
    if sync:

        @server.tool(structured_output=False)
        def echo(text: str) -> str:
            """Echo the text back."""
            return text

        @server.tool()
        def add(a: int, b: int) -> int:
            """Add two integers."""
            return a + b

    else:

        @server.tool(name="echo", structured_output=False)
        async def echo_async(text: str) -> str:
            """Echo the text back."""
            return text

        @server.tool(name="add")
        async def add_async(a: int, b: int) -> int:
            """Add two integers."""
            return a + b

    return server


def main() -> None:
    parser = argparse.ArgumentParser(description="The official SDK's benchmark server.")
    parser.add_argument("--http", action="store_true")
    parser.add_argument("--port", type=int, default=8000)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--json", action="store_true")
    mode.add_argument("--sse", action="store_true")
    mode.add_argument("--stateless", action="store_true", help="no sessions, JSON bodies")
    parser.add_argument("--sync", action="store_true")
    args = parser.parse_args()
    logging.getLogger().setLevel(logging.WARNING)
    server = make_server(sync=args.sync)
    if not args.http:
        server.run("stdio")
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from serving import serve

    app = server.streamable_http_app(
        json_response=args.json or args.stateless,
        stateless_http=args.stateless,
        max_sessions=MAX_SESSIONS,
    )
    serve(app, args.port)


if __name__ == "__main__":
    main()
