"""Real HTTP for tests: an ASGI app on uvicorn at a free 127.0.0.1 port, inside the test.

Layer: tests. Why not `httpx.MockTransport`: a mock skips the parts that break in real use —
sockets, chunked SSE bodies, connection reuse, a peer closing mid-stream. Everything here goes
through a real uvicorn and a real TCP connection; only the server's behaviour is scripted.

- `serve_app(app)` runs any ASGI app and yields its base URL;
- `serving(server, **app_kw)` runs an mcpkit `Server`'s `http_app` and yields the MCP URL;
- `http_transport(server, kind)` serves `server` and opens a client transport to it, for
  the suites that run over every transport;
- `scripted(handler)` turns `async (starlette Request) -> Response` into an ASGI app, for
  servers that misbehave on purpose.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Literal

import anyio
import uvicorn
from starlette.requests import Request
from starlette.responses import Response

from mcpkit.server import Server
from mcpkit.transports.base import Transport
from mcpkit.transports.http import ParamHeaders, http_client
from mcpkit.transports.sse_legacy import sse_client

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
Handler = Callable[[Request], Awaitable[Response]]

__all__ = [
    "HTTP_KINDS",
    "Handler",
    "free_port",
    "http_transport",
    "scripted",
    "serve_app",
    "serving",
]

HTTP_KINDS = ("http-sse", "http-json", "sse-legacy")
"""Streamable HTTP with SSE or JSON answers, and the 2024-11-05 HTTP+SSE transport."""


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve_app(
    app: ASGIApp, *, lifespan: Literal["on", "off"] = "on", **uvicorn_kw: Any
) -> AsyncIterator[str]:
    """Serve `app` on uvicorn at a free loopback port; yields `http://127.0.0.1:PORT`
    (`https://` when `uvicorn_kw` names an `ssl_certfile`)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        config = uvicorn.Config(app, log_level="warning", lifespan=lifespan, **uvicorn_kw)
        web = uvicorn.Server(config)
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: web.serve(sockets=[sock]))
            try:
                scheme = "https" if "ssl_certfile" in uvicorn_kw else "http"
                yield f"{scheme}://127.0.0.1:{sock.getsockname()[1]}"
            finally:
                web.should_exit = True


@asynccontextmanager
async def serving(server: Server | None = None, **app_kw: Any) -> AsyncIterator[str]:
    """`server` (default: the framework test server) on uvicorn; yields its MCP URL."""
    if server is None:
        from tests.framework_server import make_server

        server = make_server()
    async with serve_app(server.http_app(**app_kw)) as base:
        yield f"{base}/mcp"


@asynccontextmanager
async def http_transport(
    server: Server, kind: str, param_headers: ParamHeaders | None = None
) -> AsyncIterator[Transport]:
    """`server` on uvicorn and a client transport to it, of one of the `HTTP_KINDS`."""
    if kind == "sse-legacy":
        async with serving(server) as url, sse_client(url.removesuffix("/mcp") + "/sse") as sse:
            yield sse
        return
    assert kind in HTTP_KINDS, kind
    async with (
        serving(server, json_response=kind == "http-json") as url,
        http_client(url, param_headers=param_headers) as http,
    ):
        yield http


def scripted(handler: Handler) -> ASGIApp:
    """An ASGI app answering every HTTP request with `await handler(request)`."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        response = await handler(Request(scope, receive))
        await response(scope, receive, send)

    return app


# ---- a raw TCP server, for what uvicorn never sends ---------------------------------------

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_server(script: Script) -> AsyncIterator[str]:
    """A TCP server on 127.0.0.1 running `script` per connection; yields its base URL."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await script(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}"


async def read_head(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")
