"""The browser step of the authorization-code flow, pluggable.

Layer: auth. The client sends the user to the authorization server's `authorize` URL; the
server sends the browser back to the client's `redirect_uri` with `code`, `state` (and `iss`).
A `RedirectHandler` does that round trip and returns the URL the browser came back to:

- `LoopbackRedirect` (the default for people): listens on 127.0.0.1 (RFC 8252 §7.3),
  opens the system browser, and waits for the one callback;
- `HeadlessRedirect` (tests, CI, the conformance run): GETs the `authorize` URL without a
  browser and takes the `Location` of the redirect, for servers that approve at once
  (`mcpkit auth-server --auto-approve`, the conformance mocks).
"""

from __future__ import annotations

__all__ = ["HeadlessRedirect", "LoopbackRedirect", "RedirectHandler"]

import asyncio
import socket
import webbrowser
from collections.abc import Callable
from typing import Protocol, final, runtime_checkable

import anyio

from mcpkit.protocol.errors import OAuthFlowError


@runtime_checkable
class RedirectHandler(Protocol):
    """`redirect_uri` is registered with the server; `authorize(url)` returns the URL the
    browser was sent back to (with its query)."""

    @property
    def redirect_uri(self) -> str: ...

    async def authorize(self, url: str) -> str: ...


@final
class HeadlessRedirect:
    """Follows nothing: GETs the authorization URL and returns the redirect's `Location`.

    Only for servers that approve without a person (a consent page is an error here)."""

    def __init__(self, redirect_uri: str = "http://localhost:3000/callback") -> None:
        self._redirect_uri = redirect_uri

    @property
    def redirect_uri(self) -> str:
        return self._redirect_uri

    async def authorize(self, url: str) -> str:
        import httpx

        async with httpx.AsyncClient(follow_redirects=False, timeout=30) as http:
            try:
                response = await http.get(url)
            except httpx.HTTPError as exc:
                raise OAuthFlowError(f"the authorization request failed: {exc!r}") from exc
        location: str | None = response.headers.get("location")
        if response.status_code not in (301, 302, 303, 307, 308) or not location:
            raise OAuthFlowError(
                f"the authorization server answered HTTP {response.status_code} instead of "
                "redirecting back: it wants a person (use LoopbackRedirect), or refused"
            )
        return location


_PAGE = (
    b"<!doctype html><meta charset=utf-8><title>mcpkit</title>"
    b"<p>Authorization finished. You can close this window.</p>"
)


@final
class LoopbackRedirect:
    """Receives the callback on `http://127.0.0.1:<port>/callback` and opens the browser.

    The port is taken when the redirect URI is first asked for (it must be registered
    before the flow starts) and held until the callback comes or `timeout` seconds pass.
    `open_browser` is called with the authorization URL (default: `webbrowser.open`; the
    URL is also printed by the CLI for machines without one)."""

    def __init__(
        self,
        port: int = 0,
        *,
        timeout: float = 300,
        open_browser: Callable[[str], object] = webbrowser.open,
    ) -> None:
        self._port = port
        self._timeout = timeout
        self._open = open_browser
        self._socket: socket.socket | None = None

    @property
    def redirect_uri(self) -> str:
        if self._socket is None:
            self._socket = socket.create_server(("127.0.0.1", self._port))
            self._port = self._socket.getsockname()[1]
        return f"http://127.0.0.1:{self._port}/callback"

    async def authorize(self, url: str) -> str:
        redirect = self.redirect_uri
        assert self._socket is not None
        arrived: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                line = (await reader.readline()).decode("latin-1").split()
                await reader.readuntil(b"\r\n\r\n")
                if len(line) >= 2 and line[1].startswith("/callback") and not arrived.done():
                    arrived.set_result(redirect.removesuffix("/callback") + line[1])
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n")
                    writer.write(b"Connection: close\r\n\r\n" + _PAGE)
                else:
                    writer.write(b"HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n")
                await writer.drain()
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(serve, sock=self._socket)
        try:
            self._open(url)
            with anyio.fail_after(self._timeout):
                return await arrived
        except TimeoutError:
            raise OAuthFlowError(f"no authorization callback within {self._timeout:g}s") from None
        finally:
            server.close()
            self._socket = None
