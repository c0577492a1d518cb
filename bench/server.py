"""mcpkit's benchmark server: the `echo`/`add` workload over stdio or Streamable HTTP.

    python bench/server.py                                   stdio (both eras)
    python bench/server.py --http --port N [--json|--sse|--stateless]

HTTP serves `http://127.0.0.1:N/mcp`: SSE answers by default, `--json` for JSON bodies.
`http_app` has no session-less legacy mode: the modern era (2026-07-28) is mcpkit's stateless
HTTP, served on the same endpoint. So `--stateless` serves JSON mode, where a modern request
needs no session while a legacy `initialize` still gets one.

Tools (the contract of the shared harness, /work/shared/bench/README.md): `echo(text)` → one
text block; `add(a, b)` → `structuredContent {"result": a+b}` plus a text block, with an
output schema. They are `async def` (a tool that does no blocking I/O needs no thread);
`--sync` registers plain functions instead, which mcpkit (like the official SDK) runs in a
worker thread; the shared harness's official-SDK peers are written that way.

Start-up is kept lean (it is measured): HTTP-only imports load only with `--http`, and the
argument parser only when there are arguments (argparse costs ~10 ms to import here).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from mcpkit.server import Server

if TYPE_CHECKING:
    import argparse

# The whole benchmark can drive more sessions than the framework's default cap.
MAX_SESSIONS = 100_000


def make_server(*, sync: bool = False) -> Server:
    server = Server("mcpkit-bench", instructions="Echoes text and adds numbers.")
    if sync:

        @server.tool()
        def echo(text: str) -> str:
            """Echo the text back."""
            return text

        @server.tool()
        def add(a: int, b: int) -> int:
            """Add two integers."""
            return a + b

    else:

        @server.tool(name="echo")
        async def echo_async(text: str) -> str:
            """Echo the text back."""
            return text

        @server.tool(name="add")
        async def add_async(a: int, b: int) -> int:
            """Add two integers."""
            return a + b

    return server


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    import argparse

    parser = argparse.ArgumentParser(description="mcpkit's benchmark server (echo, add).")
    parser.add_argument("--http", action="store_true", help="Streamable HTTP instead of stdio")
    parser.add_argument("--port", type=int, default=8000)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--json", action="store_true", help="JSON response bodies")
    mode.add_argument("--sse", action="store_true", help="SSE response streams (the default)")
    mode.add_argument("--stateless", action="store_true", help="JSON mode; see the docstring")
    parser.add_argument("--sync", action="store_true", help="plain (threaded) tool functions")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    if not (sys.argv[1:] if argv is None else argv):  # stdio, the default
        make_server().run()
        return
    args = parse_args(argv)
    server = make_server(sync=args.sync)
    if not args.http:
        server.run()
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from serving import serve

    json_response = args.json or args.stateless
    serve(server.http_app(json_response=json_response, max_sessions=MAX_SESSIONS), args.port)


if __name__ == "__main__":
    main()
