"""HTTP/1.1 for the MCP client transports: asyncio, httptools' parser, kept-alive connections.

Layer: transports. Why not httpx here: an MCP call is one small POST, and httpx + httpcore
spend ~1.3 ms of CPU on each (request models, cookie jar, anyio streams, h11); this wire
spends ~60 µs, so the client costs less than the server it talks to. It does only what the
MCP transports need — one request per connection at a time, `Content-Length` bodies out,
any framing in (length, chunked, until close), redirects, TLS — and leaves the rest (proxies,
HTTP/2, cookies, compression) to httpx through `http_wire.HttpxWire`.

Each connection is an `asyncio.Protocol` feeding httptools; a response's body chunks queue in
`_Body` and the socket pauses while more than `_HIGH_WATER` bytes wait unread. A connection
goes back to its origin's idle list when its response was read to the end and both sides
keep it alive. A request on a reused connection that dies before any byte of the answer
(the server closed it while idle) is sent once more on a new one, as browsers do.
"""

from __future__ import annotations

__all__ = ["LeanWire"]

import asyncio
import collections
import functools
import ssl
import urllib.parse
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, NamedTuple, cast, final

import httptools

from mcpkit._version import __version__
from mcpkit.transports.http_wire import (
    Answered,
    WireConnectError,
    WireError,
    WireResponse,
    media_type,
)

_HIGH_WATER = 1 << 20
"""Unread body bytes at which the socket stops being read."""

_MAX_IDLE = 16
"""Idle connections kept per origin."""

_MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_USER_AGENT = f"mcpkit/{__version__}"
_OURS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
_Origin = tuple[str, str, int]


@final
class _Target(NamedTuple):
    """Where a URL's requests go: its origin, the request line's target, the Host header."""

    origin: _Origin
    path: str
    host: str


@functools.lru_cache(maxsize=64)
def _target(url: str) -> _Target:
    """What a request to `url` needs, worked out once: a client sends every request to the
    same few URLs, and taking one apart cost more than the rest of the request head.

    Raises:
        WireError: not an http(s) URL, or a bad port.
    """
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise WireError(f"not an http(s) URL: {url!r}")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise WireError(f"bad port in {url!r}") from exc
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target((scheme, parts.hostname, port), path, parts.netloc.rsplit("@", 1)[-1])


_HeadKey = tuple[str, _Target, tuple[tuple[str, str], ...]]
_HEADS_KEPT = 64


def _length(method: str, size: int) -> bytes:
    """The head's last line, `Content-Length` when one is due, and the blank line."""
    if size or method in ("POST", "PUT", "PATCH"):
        return b"Content-Length: %d\r\n\r\n" % size
    return b"\r\n"


def _block(method: str, url: _Target, headers: Mapping[str, str]) -> bytes:
    """The request line and every header line but `Content-Length`, each ending in CRLF;
    refuses values that would split the head."""
    lines = [f"{method} {url.path} HTTP/1.1", f"Host: {url.host}"]
    agent = encoding = False
    for name, value in headers.items():  # (one pass: this is per request)
        lower = name.lower()
        if lower in _OURS:
            continue
        agent = agent or lower == "user-agent"
        encoding = encoding or lower == "accept-encoding"
        lines.append(f"{name}: {value}")
    if not agent:
        lines.append(f"User-Agent: {_USER_AGENT}")
    if not encoding:
        lines.append("Accept-Encoding: identity")  # no header would mean "any coding is fine"
    block = "\r\n".join(lines)
    breaks = len(lines) - 1  # one scan each instead of one per header
    if block.count("\n") != breaks or block.count("\r") != breaks or "\0" in block:
        bad = (n for n, v in headers.items() if any(c in n + v for c in "\r\n\0"))
        raise WireError(f"{next(bad, 'the request line')!r} holds a line break or NUL")
    try:
        return (block + "\r\n").encode("latin-1")
    except UnicodeEncodeError as exc:
        raise WireError(f"a header of {method} {url.path} is not Latin-1: {exc}") from exc


@final
class _Body:
    """Body chunks between the parser and the reader, with flow control on the socket."""

    def __init__(self, connection: _Connection) -> None:
        self._connection = connection
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._waiter: asyncio.Future[None] | None = None
        self.complete = False
        self.error: WireError | None = None

    def feed(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        self._buffered += len(chunk)
        if self._buffered > _HIGH_WATER:
            self._connection.pause()
        self._wake()

    def end(self, error: WireError | None = None) -> None:
        if not self.complete and self.error is None:
            self.complete, self.error = error is None, error
        self._wake()

    def whole_or_stream(self, stream: bool) -> bool:
        """Whether a response whose head is in can be handed over: its body is whole, or it
        is an event stream (read as it comes), or enough of it waits to need a reader."""
        return self.complete or stream or self._buffered >= _HIGH_WATER // 2

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def take_all(self) -> bytes:
        """Every chunk buffered, at once (the reader needs no more once `complete`)."""
        data = b"".join(self._chunks)
        self._chunks.clear()
        self._buffered = 0
        self._connection.resume()
        return data

    async def next(self) -> bytes | None:
        """The next chunk; None at the end. Raises the `WireError` that broke it."""
        while not self._chunks:
            if self.complete:
                return None
            if self.error is not None:
                raise self.error
            self._waiter = self._connection.loop.create_future()
            await self._waiter
        chunk = self._chunks.popleft()
        self._buffered -= len(chunk)
        if self._buffered <= _HIGH_WATER // 2:
            self._connection.resume()
        return chunk


@final
class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection; one exchange at a time."""

    def __init__(self, origin: _Origin) -> None:
        self.origin = origin
        # (made by the loop's connection factory; asked once: on Python 3.11 each
        # `get_running_loop()` is a getpid() syscall)
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.alive = True
        self.reused = False
        self._paused = False
        self._parser: Any = None
        self._head: asyncio.Future[None] | None = None
        # (`start`'s exchange: told once its answer can be handed over, or of the break)
        self._on_head: Callable[[WireError | None], None] | None = None
        self._received = False  # any byte of the current answer?
        self._until_close = False  # a body that ends when the connection does
        self._stream = False  # an event stream: `start`'s caller reads it as it comes
        self.status = 0
        self.reason = ""
        self.headers: dict[str, str] = {}
        self._raw_headers: list[tuple[bytes, bytes]] = []
        self.body: _Body | None = None

    # ---- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (uvloop's transports are not `asyncio.Transport` subclasses, only alike)
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._parser is None:  # bytes nobody asked for: the connection is unusable
            self.close()
            return
        self._received = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._broken(WireError(f"malformed HTTP response: {exc}"))
            return
        body = self.body
        if self._on_head is not None and body is not None and body.whole_or_stream(self._stream):
            on_head, self._on_head = self._on_head, None
            on_head(None)

    def eof_received(self) -> bool | None:
        return None  # close our side too; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.alive = False
        if self.body is not None and self._until_close and exc is None:
            self.body.end()
            return
        what = f": {exc!r}" if exc is not None else ""
        self._broken(WireError(f"the connection closed before the response ended{what}"))

    # ---- parser callbacks ---------------------------------------------------------------

    def on_status(self, reason: bytes) -> None:
        self.reason = reason.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._raw_headers.append((name, value))  # (decoded at the end, in one loop)

    def on_headers_complete(self) -> None:
        self.status = self._parser.get_status_code()
        raw, self._raw_headers = self._raw_headers, []
        if 100 <= self.status < 200:
            return  # informational (103 Early Hints): the real answer follows
        headers = self.headers
        for name, value in raw:
            key = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        framed = "content-length" in headers or "transfer-encoding" in headers
        self._until_close = not framed and self.status not in (204, 304)
        kind = headers.get("content-type")
        self._stream = kind is not None and media_type(kind) == "text/event-stream"
        self.body = _Body(self)
        if self._head is not None and not self._head.done():
            self._head.set_result(None)

    def on_body(self, chunk: bytes) -> None:
        if self.body is not None:
            self.body.feed(chunk)

    def on_message_complete(self) -> None:
        if self.body is None:  # the end of an informational response
            return
        if not self._parser.should_keep_alive():
            self.alive = False
        self._parser = None
        self.body.end()

    # ---- used by the wire ---------------------------------------------------------------

    async def exchange(self, head: bytes, body: bytes | None) -> None:
        """Write one request and wait for its response head."""
        self._head = self.loop.create_future()
        self._write(head, body)
        await self._head

    def start(
        self, head: bytes, body: bytes | None, on_head: Callable[[WireError | None], None]
    ) -> None:
        """Write one request; `on_head(None)` is called from the protocol's callback once its
        response is in (see `_Body.whole_or_stream`), `on_head(error)` if the connection
        breaks before that."""
        self._on_head = on_head
        self._write(head, body)

    def _write(self, head: bytes, body: bytes | None) -> None:
        assert self.transport is not None
        self._parser = httptools.HttpResponseParser(self)
        self._received, self.body, self.headers = False, None, {}
        self._raw_headers = []
        self.transport.write(head + body if body else head)

    def answered_anything(self) -> bool:
        return self._received

    def idle(self) -> bool:
        return self.alive and self._parser is None and self.transport is not None

    def pause(self) -> None:
        if not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()

    def resume(self) -> None:
        if self._paused and self.transport is not None and not self.transport.is_closing():
            self._paused = False
            self.transport.resume_reading()

    def close(self) -> None:
        self.alive = False
        if self.transport is not None:
            self.transport.close()

    def _broken(self, error: WireError) -> None:
        self.alive = False
        if self._head is not None and not self._head.done():
            self._head.set_exception(error)
        elif self._on_head is not None:
            on_head, self._on_head = self._on_head, None
            on_head(error)
        elif self.body is not None:
            self.body.end(error)
        if self.transport is not None:
            self.transport.close()


@final
class _LeanResponse:
    def __init__(self, wire: LeanWire, connection: _Connection, url: str) -> None:
        self._wire = wire
        self._connection = connection
        self._released = False
        self.status = connection.status
        self.reason = connection.reason
        self.headers: Mapping[str, str] = connection.headers
        self.url = url

    async def chunks(self) -> AsyncIterator[bytes]:
        body = self._connection.body
        assert body is not None
        while (chunk := await body.next()) is not None:
            yield chunk
        self._release()

    async def read(self) -> bytes:
        data = self.take_whole()
        if data is not None:
            return data
        return b"".join([chunk async for chunk in self.chunks()])

    def take_whole(self) -> bytes | None:
        """The whole body if it is in already (usual for a small answer: it came with the
        head), the connection then released; None while more is to come."""
        body = self._connection.body
        assert body is not None
        if not body.complete:
            return None
        data = body.take_all()
        self._release()
        return data

    async def aclose(self) -> None:
        self._release()

    def _release(self) -> None:
        if self._released:
            return
        self._released = True
        body = self._connection.body
        if body is not None and body.complete and self._connection.idle():
            self._wire.keep(self._connection)
        else:
            self._connection.close()  # unread or broken: nobody can use it after us


@final
class LeanWire:
    """A `Wire` (see `http_wire`) of kept-alive HTTP/1.1 connections per origin."""

    def __init__(
        self, *, connect_timeout: float, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self._timeout = connect_timeout
        self._ssl = ssl_context
        self._idle: dict[_Origin, list[_Connection]] = {}
        self._closed = False
        # Header blocks made before: a client sends the same headers again and again, and
        # making the block was a tenth of its cost per call. Per wire, not per process: the
        # keys hold credentials, which must go with the client.
        self._heads: dict[_HeadKey, bytes] = {}
        self._busy: set[_Connection] = set()  # exchanges started by `post_now`

    async def open(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None = None,
        *,
        follow_redirects: bool = True,
    ) -> WireResponse:
        headers = dict(headers)
        for _ in range(_MAX_REDIRECTS + 1):
            response = await self._open_once(method, url, headers, body)
            location = response.headers.get("location")
            if not (follow_redirects and response.status in _REDIRECTS and location):
                return response
            await response.aclose()
            target = urllib.parse.urljoin(url, location)
            if _target(target).origin != _target(url).origin:
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            if response.status in (301, 302, 303) and method != "GET":
                method, body = "GET", None
                headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
            url = target
        raise WireError(f"more than {_MAX_REDIRECTS} redirects from {url}")

    def post_now(
        self, url: str, headers: Mapping[str, str], body: bytes, on_done: Answered
    ) -> bool:
        """POST without a task, on a kept-alive connection, if one is idle (see `Wire`)."""
        if self._closed:
            return False
        where = _target(url)
        idle = self._idle.get(where.origin)
        if not idle:
            return False
        try:
            head = self._head(where, "POST", headers, body)
        except WireError:
            return False  # (the usual way says so)
        connection = idle.pop()
        if not connection.idle():
            connection.close()
            return False

        def answered(error: WireError | None) -> None:
            self._busy.discard(connection)
            if error is not None:
                retry = connection.reused and not connection.answered_anything()
                on_done(None if retry else error)
            else:
                on_done(_LeanResponse(self, connection, url))

        self._busy.add(connection)
        connection.start(head, body, answered)
        return True

    async def aclose(self) -> None:
        self._closed = True
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()
        for connection in list(self._busy):
            connection.close()

    def keep(self, connection: _Connection) -> None:
        """Take a connection back after its exchange (closed if the wire is, or full)."""
        idle = self._idle.setdefault(connection.origin, [])
        if self._closed or len(idle) >= _MAX_IDLE:
            connection.close()
        else:
            connection.reused = True
            idle.append(connection)

    async def _open_once(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> _LeanResponse:
        if self._closed:
            raise WireError("the HTTP wire is closed")
        where = _target(url)
        origin = where.origin
        head = self._head(where, method, headers, body)
        while True:
            connection = await self._connection(origin)
            try:
                await connection.exchange(head, body)
            except WireError:
                if connection.reused and not connection.answered_anything():
                    continue  # the server closed it while idle: once more on a new one
                raise
            except BaseException:
                connection.close()  # cancelled mid-exchange: its answer is nobody's
                raise
            return _LeanResponse(self, connection, url)

    def _head(
        self, where: _Target, method: str, headers: Mapping[str, str], body: bytes | None
    ) -> bytes:
        key = (method, where, tuple(headers.items()))
        block = self._heads.get(key)
        if block is None:
            if len(self._heads) >= _HEADS_KEPT:
                self._heads.clear()
            block = self._heads[key] = _block(method, where, headers)
        return block + _length(method, len(body or b""))

    async def _connection(self, origin: _Origin) -> _Connection:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if connection.idle():
                return connection
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        context = (self._ssl or _default_ssl()) if scheme == "https" else None
        try:
            async with asyncio.timeout(self._timeout):
                _, protocol = await loop.create_connection(
                    lambda: _Connection(origin), host, port, ssl=context
                )
        except TimeoutError as exc:
            raise WireConnectError(f"connecting to {host}:{port} timed out") from exc
        except OSError as exc:  # refused, unreachable, no such host, TLS failure
            raise WireConnectError(f"cannot connect to {host}:{port}: {exc}") from exc
        return protocol


_SSL: list[ssl.SSLContext] = []


def _default_ssl() -> ssl.SSLContext:
    """Verify servers against certifi's roots (what httpx trusts), made once."""
    if not _SSL:
        import certifi

        context = ssl.create_default_context(cafile=certifi.where())
        context.set_alpn_protocols(["http/1.1"])
        _SSL.append(context)
    return _SSL[0]
