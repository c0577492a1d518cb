"""Streamable HTTP, driven over raw HTTP/1.1 keep-alive connections (no HTTP library).

A `Connection` has one request in flight (HTTP/1.1 pipelining is not used in practice) and
parses responses itself: a status line, headers, then a body framed by `Content-Length` or
chunked transfer coding. A POST answered with `text/event-stream` carries the JSON-RPC answer
in a `data:` event of a stream that ends once the answer is sent; priming events (empty data)
and notifications are skipped. Requests are bytes built once per load, id spliced in.

Legacy: `initialize` opens a session (`Mcp-Session-Id`), `notifications/initialized`
completes it (202), every request carries the session id; DELETE ends it. Modern: every POST
stands alone, its headers mirroring the body.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, NamedTuple, cast
from urllib.parse import urlsplit

import msgspec

from driver import wire
from driver.procs import group_cpu_s
from driver.stats import Tally, now_ns, resolver


class Response(NamedTuple):
    status: int
    headers: dict[bytes, bytes]
    body: bytes


class HTTPError(Exception):
    pass


Callback = Callable[[Response | None], None]


def _parse_head(head: bytes) -> tuple[int, dict[bytes, bytes]]:
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection to the server."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.callback: Callback | None = None
        self.transport: asyncio.Transport | None = None
        self._head: tuple[int, dict[bytes, bytes]] | None = None
        self._chunks: list[bytes] = []
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (uvloop's transports do not subclass asyncio.Transport, but behave as one)
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self._head is not None or self.buffer:
            if not self._parse():
                break

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        callback, self.callback = self.callback, None
        if callback is not None:
            callback(None)

    def send(self, data: bytes, callback: Callback) -> None:
        assert self.transport is not None
        self.callback = callback
        self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def _parse(self) -> bool:
        """Take one complete response off the buffer; False when more bytes are needed."""
        buffer = self.buffer
        if self._head is None:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return False
            self._head = _parse_head(bytes(buffer[:end]))
            del buffer[: end + 4]
        status, headers = self._head
        body = self._body(status, headers)
        if body is None:
            return False
        self._head = None
        callback, self.callback = self.callback, None
        if callback is not None:
            callback(Response(status, headers, body))
        return True

    def _body(self, status: int, headers: dict[bytes, bytes]) -> bytes | None:
        buffer = self.buffer
        length = headers.get(b"content-length")
        if length is not None:
            size = int(length)
            if len(buffer) < size:
                return None
            body = bytes(buffer[:size])
            del buffer[:size]
            return body
        if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            return self._chunked()
        return b""  # 1xx/204/304, or a server that frames by closing: not used by uvicorn

    def _chunked(self) -> bytes | None:
        buffer = self.buffer
        while True:
            line_end = buffer.find(b"\r\n")
            if line_end < 0:
                return None
            size = int(bytes(buffer[:line_end]).split(b";")[0], 16)
            if size == 0:  # the last chunk; then optional trailers and an empty line
                rest = line_end + 2
                if buffer[rest : rest + 2] == b"\r\n":
                    stop = rest + 2
                else:
                    trailers_end = buffer.find(b"\r\n\r\n", rest)
                    if trailers_end < 0:
                        return None
                    stop = trailers_end + 4
                del buffer[:stop]
                body, self._chunks = b"".join(self._chunks), []
                return body
            start = line_end + 2
            if len(buffer) < start + size + 2:
                return None
            self._chunks.append(bytes(buffer[start : start + size]))
            del buffer[: start + size + 2]


def messages(response: Response) -> list[Any]:
    """The JSON-RPC messages in a response body, JSON or SSE."""
    body = response.body
    if not body:
        return []
    if response.headers.get(b"content-type", b"").startswith(b"text/event-stream"):
        found = []
        for event in body.replace(b"\r\n", b"\n").split(b"\n\n"):
            data = [
                line[5:].lstrip(b" ") for line in event.split(b"\n") if line.startswith(b"data:")
            ]
            if data and any(part.strip() for part in data):
                found.append(wire.decode(b"\n".join(data)))
        return found
    decoded = wire.decode(body)
    return decoded if isinstance(decoded, list) else [decoded]


def answer_to(response: Response, mid: int) -> Any:
    """The message answering request `mid`, or None."""
    try:
        return next((m for m in messages(response) if m.get("id") == mid), None)
    except (msgspec.DecodeError, AttributeError):
        return None


class Endpoint:
    """An MCP endpoint: builds requests and keeps the (legacy) session id."""

    def __init__(self, url: str, era: wire.Era) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = (parts.path or "/").encode()
        self.era = era
        self.session: bytes | None = None
        self.next_id = 1
        self._host_header = f"{self.host}:{self.port}".encode()

    async def connect(self) -> Connection:
        _, connection = await asyncio.get_running_loop().create_connection(
            Connection, self.host, self.port
        )
        return connection

    def take_ids(self, count: int) -> int:
        first, self.next_id = self.next_id, self.next_id + count
        return first

    def head(self, mcp_headers: list[tuple[str, str]], session: bytes | None = None) -> bytes:
        """A POST's request line and headers, up to the `Content-Length` value."""
        lines = [
            b"POST " + self.path + b" HTTP/1.1",
            b"Host: " + self._host_header,
            b"Content-Type: application/json",
            b"Accept: application/json, text/event-stream",
            *(f"{name}: {value}".encode() for name, value in mcp_headers),
        ]
        if session is not None:
            lines.append(b"Mcp-Session-Id: " + session)
        return b"\r\n".join([*lines, b"Content-Length: "])

    def build(
        self, body: bytes, mcp_headers: list[tuple[str, str]], session: bytes | None = None
    ) -> bytes:
        return self.head(mcp_headers, session) + b"%d\r\n\r\n" % len(body) + body

    async def exchange(self, connection: Connection, data: bytes, timeout: float = 30) -> Response:
        future: asyncio.Future[Response | None] = asyncio.get_running_loop().create_future()
        connection.send(data, resolver(future))
        response = await asyncio.wait_for(future, timeout)
        if response is None:
            raise HTTPError("the server closed the connection")
        return response

    async def call(self, connection: Connection, method: str, params: dict[str, Any]) -> Any:
        """One request in this endpoint's era; returns the answer message."""
        mid = self.take_ids(1)
        body = wire.encode(wire.request(mid, method, params, self.era))
        headers = wire.http_headers(method, self.era, params.get("name"))
        response = await self.exchange(connection, self.build(body, headers, self.session))
        answer = answer_to(response, mid)
        if response.status != 200 or answer is None:
            raise HTTPError(f"{method}: HTTP {response.status} {response.body[:300]!r}")
        return answer

    async def open_session(self, connection: Connection) -> bytes | None:
        """initialize + notifications/initialized; returns the session id (None: stateless)."""
        mid = self.take_ids(1)
        data = self.build(wire.encode(wire.initialize(mid)), [])
        response = await self.exchange(connection, data)
        answer = answer_to(response, mid)
        if response.status != 200 or answer is None or "result" not in answer:
            raise HTTPError(f"initialize: HTTP {response.status} {response.body[:300]!r}")
        session = response.headers.get(b"mcp-session-id")
        headers = wire.http_headers("notifications/initialized", wire.Era.LEGACY)
        done = await self.exchange(
            connection, self.build(wire.encode(wire.INITIALIZED), headers, session)
        )
        if done.status not in (200, 202, 204):
            raise HTTPError(f"notifications/initialized: HTTP {done.status}")
        return session

    async def delete_session(self, connection: Connection, session: bytes) -> int:
        lines = [
            b"DELETE " + self.path + b" HTTP/1.1",
            b"Host: " + self._host_header,
            b"Mcp-Session-Id: " + session,
            b"MCP-Protocol-Version: " + wire.LEGACY_VERSION.encode(),
        ]
        response = await self.exchange(connection, b"\r\n".join(lines) + b"\r\n\r\n")
        return response.status

    async def load(
        self,
        workload: wire.Workload,
        n: int,
        connections: list[Connection],
        max_s: float,
        server_pgid: int | None = None,
    ) -> dict[str, Any]:
        """`n` tools/call, one in flight on each connection; every answer checked."""
        tally = Tally(n, max_s)
        base = self.take_ids(n)
        head = self.head(wire.http_headers("tools/call", workload.era, workload.tool), self.session)
        body = workload.body
        idle = list(connections)

        def send(index: int) -> None:
            connection = idle.pop()
            mid = base + index
            sent = now_ns()

            def on_response(response: Response | None) -> None:
                if response is None:
                    tally.lost(1)
                    return
                ok = response.status == 200 and workload.check(answer_to(response, mid))
                idle.append(connection)
                following = tally.answered(sent, ok)
                if following is not None:
                    send(following)

            data = body(mid)
            connection.send(head + b"%d\r\n\r\n" % len(data) + data, on_response)

        cpu0 = group_cpu_s(server_pgid) if server_pgid else 0.0
        mine0 = time.process_time()
        await tally.run(send, len(connections))
        result = tally.summary()
        calls = max(result["calls"], 1)
        if server_pgid:
            cpu = group_cpu_s(server_pgid) - cpu0
            result["server_cpu_us_per_call"] = round(cpu * 1e6 / calls, 1)
        result["driver_cpu_us_per_call"] = round((time.process_time() - mine0) * 1e6 / calls, 1)
        return result
