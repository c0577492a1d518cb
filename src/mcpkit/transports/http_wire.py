"""The HTTP exchanges the MCP client transports make, behind one small interface.

Layer: transports. `Wire.open()` sends one request and returns its response as soon as the
status and headers are in; the body is read (streamed, for SSE) through the response. Two
wires implement it:

- `LeanWire` (`http_lean`): HTTP/1.1 over asyncio with httptools' parser and kept-alive
  connections. It exists for speed: httpx + httpcore spend about 1.3 ms of CPU per small
  exchange here, more than a whole MCP call is worth; this wire spends about 60 µs.
- `HttpxWire`: any `httpx.AsyncClient` — what a caller passes for its own settings (mTLS,
  custom transports, event hooks), and what `open_wire` picks when an environment proxy
  applies to the URL or the event loop is not asyncio.

Both raise only `WireError` (`WireConnectError` when no connection could be made), so the
transports above never see httpx's or asyncio's exceptions.
"""

from __future__ import annotations

__all__ = [
    "Answered",
    "HttpxWire",
    "Wire",
    "WireConnectError",
    "WireError",
    "WireResponse",
    "content_type",
    "media_type",
    "open_wire",
]

import urllib.request
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Protocol, final

import anyio
import sniffio

if TYPE_CHECKING:
    import httpx


class WireError(Exception):
    """An HTTP exchange failed: the connection broke, the response was malformed, or the
    request could not be written."""


class WireConnectError(WireError):
    """No connection could be made (refused, unresolvable, timed out)."""


class WireResponse(Protocol):
    """One response: status and headers are in, the body is still to be read.

    `headers` has lower-case names; repeated fields are joined with ", " (RFC 9110 §5.3).
    `url` is the URL that answered (after redirects). `aclose()` must be called (the
    transports do it in `finally`); it releases the connection, closing it if the body
    was not read to its end. It completes even in a cancelled task (an implementation that
    must wait shields itself), so callers add no cancel scope of their own: a scope per
    response cost more than the lean wire's whole release.
    """

    status: int
    reason: str
    headers: Mapping[str, str]
    url: str

    def chunks(self) -> AsyncIterator[bytes]: ...

    async def read(self) -> bytes: ...

    def take_whole(self) -> bytes | None:
        """The whole body, if it is in already (then the response is closed too); None
        while more is to come (or when the wire cannot tell): `read()` it then."""
        ...

    async def aclose(self) -> None: ...


Answered = Callable[["WireResponse | WireError | None"], None]
"""How `Wire.post_now` tells how its exchange went: the response (its head is in; read and
close it as any), the `WireError` that broke it, or None when the request never got through
(a kept-alive connection the server had closed) and should be sent again the usual way."""


class Wire(Protocol):
    """Opens requests; `aclose()` closes every connection it holds (idempotent)."""

    def post_now(
        self, url: str, headers: Mapping[str, str], body: bytes, on_done: Answered
    ) -> bool:
        """Start a POST without a task when that can be done at once (a kept-alive
        connection is idle): `on_done` is then called from the I/O callback that reads the
        response head. False when it cannot be; `open` is the way then. This is what lets
        a client's usual exchange (one small JSON answer) cost no task and no await."""
        ...

    async def open(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None = None,
        *,
        follow_redirects: bool = True,
    ) -> WireResponse:
        """Send a request and return its response once the head is in.

        Raises:
            WireConnectError: no connection could be made.
            WireError: the exchange failed after connecting.
        """
        ...

    async def aclose(self) -> None: ...


def content_type(response: WireResponse) -> str:
    """The response's media type, lowercased, without parameters."""
    return media_type(response.headers.get("content-type", ""))


def media_type(content_type: str) -> str:
    """A Content-Type value's media type, lowercased, without parameters."""
    return content_type.split(";", 1)[0].strip().lower()


# ---- httpx, for what a caller brings ------------------------------------------------------


@final
class _HttpxResponse:
    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status = response.status_code
        self.reason = response.reason_phrase
        self.headers: Mapping[str, str] = {k: response.headers[k] for k in response.headers}
        self.url = str(response.url)

    async def chunks(self) -> AsyncIterator[bytes]:
        import httpx

        try:
            async for chunk in self._response.aiter_bytes():
                yield chunk
        except httpx.HTTPError as exc:
            raise WireError(f"reading the response from {self.url} failed: {exc!r}") from exc

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.chunks()])

    def take_whole(self) -> bytes | None:
        return None

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True):
            await self._response.aclose()


@final
class HttpxWire:
    """A `Wire` over an `httpx.AsyncClient`; `owned` clients are closed by `aclose()`."""

    def __init__(self, client: httpx.AsyncClient, *, owned: bool = False) -> None:
        self.client = client
        self._owned = owned

    def post_now(
        self, url: str, headers: Mapping[str, str], body: bytes, on_done: Answered
    ) -> bool:
        return False  # (httpx has no callback to start from: `open` every time)

    async def open(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None = None,
        *,
        follow_redirects: bool = True,
    ) -> WireResponse:
        import httpx

        request = self.client.build_request(method, url, headers=headers, content=body)
        try:
            response = await self.client.send(
                request, stream=True, follow_redirects=follow_redirects
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise WireConnectError(f"cannot connect to {url}: {exc!r}") from exc
        except httpx.HTTPError as exc:
            raise WireError(f"{method} {url} failed: {exc!r}") from exc
        return _HttpxResponse(response)

    async def aclose(self) -> None:
        if self._owned:
            await self.client.aclose()


# ---- which wire ---------------------------------------------------------------------------


def _proxied(url: str) -> bool:
    """Whether an environment proxy (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, minus
    `NO_PROXY`) applies to `url`: then httpx, which speaks to proxies, carries it."""
    proxies = urllib.request.getproxies()
    scheme = url.split(":", 1)[0].lower()
    if not (proxies.get(scheme) or proxies.get("all")):
        return False
    host = url.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
    return not urllib.request.proxy_bypass(host.split(":")[0] if "]" not in host else host)


def open_wire(url: str, timeout: float, client: httpx.AsyncClient | None = None) -> Wire:
    """The wire for talking to `url`: `client` if given (left open on close), else the
    lean wire, unless a proxy applies or the loop is not asyncio (then a new httpx client).

    `timeout` bounds connecting and writing; reads wait as long as the server streams.
    """
    if client is not None:
        return HttpxWire(client)
    if sniffio.current_async_library() == "asyncio" and not _proxied(url):
        from mcpkit.transports.http_lean import LeanWire

        return LeanWire(connect_timeout=timeout)
    import httpx

    limits = httpx.Timeout(timeout, read=None)
    return HttpxWire(httpx.AsyncClient(timeout=limits, follow_redirects=True), owned=True)
