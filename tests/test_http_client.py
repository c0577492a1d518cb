"""Tests for the Streamable HTTP client transport (`mcpkit.transports.http`).

Layer: tests. Three levels: the SSE parser and the header encoding are pure and tested
directly (with hypothesis: any chunking gives the same events, encoding round-trips); the
transport's HTTP behaviour (session headers, error synthesis, mid-stream server requests) is
tested against scripted servers on a real uvicorn (`tests.http_harness.scripted`), the lost
session against a real mcpkit server killed and restarted in a subprocess; and the whole
client end to end
against the official Python SDK's Streamable HTTP server on uvicorn (`interop`), with every
frame validated against the schema. Every wait is bounded with `anyio.fail_after`.
"""

from __future__ import annotations

import asyncio
import json
import select
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from mcpkit.client import Client
from mcpkit.protocol.errors import BrokenError, ConnectError, InternalError
from mcpkit.protocol.types import TextContent
from mcpkit.protocol.versions import Era
from mcpkit.testing import Side, ValidatingTransport
from mcpkit.transports.base import Transport
from mcpkit.transports.http import (
    HttpClientTransport,
    decode_header_value,
    encode_header_value,
    http_client,
    modern_headers,
)
from mcpkit.transports.http_sse import SSEEvent, SSEParser
from tests.http_harness import (
    Handler,
    free_port,
    raw_server,
    read_head,
    scripted,
    serve_app,
    serving,
)

SERVER_SCRIPT = Path(__file__).resolve().parent / "interop" / "official_http_server.py"
MODERN = "2026-07-28"
META = {"io.modelcontextprotocol/protocolVersion": MODERN}
Validating = Callable[[Transport, Side], ValidatingTransport]


# ---- the SSE parser -------------------------------------------------------------------


def parse(*chunks: bytes) -> list[SSEEvent]:
    parser = SSEParser()
    return [event for chunk in chunks for event in parser.feed(chunk)]


def test_sse_fields_comments_and_multiline_data() -> None:
    stream = b': hello\nevent: message\nid: 7\ndata: {"a":\ndata:1}\nretry: 50\n\n'
    assert parse(stream) == [SSEEvent(data='{"a":\n1}', id="7", retry=50)]


def test_sse_line_endings_bom_and_defaults() -> None:
    stream = b"\xef\xbb\xbfdata: one\r\n\r\nevent: ping\rdata\r\rdata:two\n\n"
    assert parse(stream) == [
        SSEEvent(data="one"),
        SSEEvent(data="", event="ping"),  # a bare `data` line is an empty data line
        SSEEvent(data="two"),
    ]


def test_sse_events_without_data_and_unfinished_events_are_dropped() -> None:
    parser = SSEParser()
    assert parser.feed(b"id: 1\nretry: x\n\nevent: e\n\n") == []
    assert parser.last_event_id == "1"
    assert parser.retry is None
    assert parser.feed(b"id: a\0b\ndata: x\n\ndata: unfinished") == [SSEEvent(data="x", id="1")]


def test_sse_crlf_split_across_chunks_is_one_line_end() -> None:
    assert parse(b"data: a\r", b"\ndata: b\r", b"", b"\n\r", b"\n") == [SSEEvent(data="a\nb")]


_field_text = st.text(st.characters(blacklist_characters="\r\n\0", codec="utf-8"), max_size=12)
_event = st.tuples(
    st.lists(_field_text, min_size=1, max_size=3),
    st.sampled_from(["", "message", "ping"]),
    st.one_of(st.none(), _field_text),
)


def _encode(events: list[tuple[list[str], str, str | None]], ending: str) -> bytes:
    lines: list[str] = [": a comment"]
    for data, kind, event_id in events:
        lines += [f"event: {kind}"] if kind else []
        lines += [] if event_id is None else [f"id:{event_id}"]
        lines += [f"data: {line}" for line in data]
        lines.append("")
    text = "".join(line + ending for line in lines)
    return text.encode("utf-8")


@given(
    st.lists(_event, max_size=5),
    st.sampled_from(["\n", "\r", "\r\n"]),
    st.lists(st.integers(min_value=0), max_size=20),
)
@settings(max_examples=300)
def test_sse_any_chunking_gives_the_same_events(
    events: list[tuple[list[str], str, str | None]], ending: str, cuts: list[int]
) -> None:
    stream = _encode(events, ending)
    whole = parse(stream)
    points = sorted({cut % (len(stream) + 1) for cut in cuts})
    pieces = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    assert parse(*pieces) == whole
    assert [event.data for event in whole] == ["\n".join(data) for data, _, _ in events]
    assert [event.event for event in whole] == [kind or "message" for _, kind, _ in events]


# ---- header stamping and value encoding ---------------------------------------------------


@pytest.mark.parametrize(
    ("value", "header"),
    [
        ("get_weather", "get_weather"),
        ("a b", "a b"),
        ("file:///tmp/x.txt", "file:///tmp/x.txt"),
        ("héllo", "=?base64?aMOpbGxv?="),
        (" lead", "=?base64?IGxlYWQ=?="),
        ("tab\there", "=?base64?dGFiCWhlcmU=?="),
        ("=?base64?abc?=", "=?base64?PT9iYXNlNjQ/YWJjPz0=?="),
        (42, "42"),
        (-7, "-7"),
        (True, "true"),
        (False, "false"),
    ],
)
def test_header_value_encoding(value: str | int | bool, header: str) -> None:
    assert encode_header_value(value) == header


@given(st.text())
def test_header_values_round_trip_and_are_visible_ascii(value: str) -> None:
    header = encode_header_value(value)
    assert decode_header_value(header) == value
    assert all(" " <= char <= "~" for char in header)
    assert header == header.strip()


def test_malformed_base64_is_rejected() -> None:
    with pytest.raises(ValueError, match="malformed"):
        decode_header_value("=?base64?not base64!?=")


def test_modern_frames_are_stamped() -> None:
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {
            "name": "wétter",
            "arguments": {"city": "Zürich", "n": 3, "x": None},
            "_meta": META,
        },
    }
    annotations = {"wétter": {"city": "City", "n": "N", "x": "X", "absent": "Absent"}}
    assert modern_headers(call, lambda name: annotations[name]) == {
        "MCP-Protocol-Version": MODERN,
        "Mcp-Method": "tools/call",
        "Mcp-Name": encode_header_value("wétter"),
        "Mcp-Param-City": encode_header_value("Zürich"),
        "Mcp-Param-N": "3",
    }
    read = {"jsonrpc": "2.0", "id": 2, "method": "resources/read"}
    read["params"] = {"uri": "file:///a", "_meta": META}
    assert modern_headers(read)["Mcp-Name"] == "file:///a"
    listing = {"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": {"_meta": META}}
    assert modern_headers(listing) == {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/list"}


@pytest.mark.parametrize(
    "message",
    [
        {"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 1, "result": {"_meta": META}},
        [{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"_meta": META}}],
        None,
    ],
)
def test_legacy_frames_responses_and_junk_are_not_stamped(message: Any) -> None:
    assert modern_headers(message) == {}


# ---- the transport against scripted servers -------------------------------------------------


def rpc(body: dict[str, Any]) -> bytes:
    return json.dumps({"jsonrpc": "2.0", **body}).encode()


async def exchange(handler: Handler, *frames: bytes, answers: int) -> list[Any]:
    """Send `frames` through a transport whose server is `handler`; return `answers` replies."""
    async with serve_app(scripted(handler), lifespan="off") as base, http_client(base) as transport:
        for frame in frames:
            await transport.send(frame)
        with anyio.fail_after(5):
            return [json.loads(await transport.receive()) for _ in range(answers)]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "code"), [(500, -32603), (404, -32601), (405, -32601), (200, -32603)]
)
async def test_http_errors_without_a_body_answer_the_request(status: int, code: int) -> None:
    async def handler(request: Request) -> Response:
        if json.loads(await request.body())["method"] == "initialize":
            return JSONResponse({"jsonrpc": "2.0", "id": 0, "result": {}}, 200)
        return Response("oops", status)

    first = rpc({"id": 0, "method": "initialize", "params": {}})
    replies = await exchange(handler, first, rpc({"id": 1, "method": "x"}), answers=2)
    assert replies[1]["id"] == 1
    assert replies[1]["error"]["code"] == code
    assert str(status) in replies[1]["error"]["message"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("statuses", "refused"), [([405], True), ([202, 400], True), ([405, 401], False), ([], False)]
)
async def test_refused_says_whether_the_last_post_met_a_server_without_streamable_http(
    statuses: list[int], refused: bool
) -> None:
    """What the client's fallback to HTTP+SSE reads (spec 2025-03-26 §Backwards Compatibility)."""
    answers = iter(statuses)

    async def handler(request: Request) -> Response:
        return Response(status_code=next(answers))

    async with serve_app(scripted(handler), lifespan="off") as base, http_client(base) as transport:
        with anyio.fail_after(5):
            for number in range(len(statuses)):
                await transport.send(rpc({"id": number, "method": "x"}))
                await transport.receive()  # a synthesized error: the status was taken
        assert transport.refused() is refused


@pytest.mark.anyio
@pytest.mark.parametrize("body", [{"error": "insufficient_scope"}, {"jsonrpc": "1.0", "id": 1}, []])
async def test_a_json_body_that_is_not_json_rpc_is_never_passed_on(body: Any) -> None:
    """An OAuth error object (or any JSON that is not JSON-RPC) must not reach the peer: it
    would answer it with an error, whose POST could get the same body, forever."""
    posts = 0

    async def handler(request: Request) -> Response:
        nonlocal posts
        posts += 1
        return JSONResponse(body, 403)

    [reply] = await exchange(handler, rpc({"id": 7, "method": "tools/list"}), answers=1)
    assert reply["id"] == 7 and reply["error"]["code"] == -32603
    assert "403" in reply["error"]["message"]
    assert posts == 1


@pytest.mark.anyio
async def test_a_json_rpc_error_body_is_passed_on_with_the_request_id() -> None:
    async def handler(request: Request) -> Response:
        error = {"code": -32022, "message": "unsupported", "data": {"supported": ["x"]}}
        return JSONResponse({"jsonrpc": "2.0", "id": None, "error": error}, 400)

    [reply] = await exchange(handler, rpc({"id": 5, "method": "server/discover"}), answers=1)
    assert reply["id"] == 5
    assert reply["error"]["code"] == -32022
    assert reply["error"]["data"] == {"supported": ["x"]}


def _http_answer(body: bytes, kind: str = "application/json") -> bytes:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


async def _respond(rid: int, writer: asyncio.StreamWriter, seen: list[int]) -> bool:
    """Answer request `rid` its own way; False: close the connection."""
    whole = _http_answer(rpc({"id": rid, "result": {"n": rid}}))
    if rid == 2:  # the body comes after the head
        writer.write(whole[:-5])
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(whole[-5:])
    elif rid == 3:  # an SSE stream
        event = b"data: " + rpc({"id": rid, "result": {"n": rid}}) + b"\n\n"
        writer.write(_http_answer(event, "text/event-stream"))
    elif rid == 4:
        writer.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
    elif rid == 5 and seen.count(5) == 1:  # gone without a word, as if while idle
        return False
    elif rid == 6:  # dropped mid-answer
        writer.write(whole[:-5])
        await writer.drain()
        return False
    elif rid == 8:  # chunked, in two pieces
        body = rpc({"id": rid, "result": {"n": rid}})
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        writer.write(b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n" % (3, body[:3]))
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body) - 3, body[3:]))
    elif rid == 9:  # big enough to be handed to a reader before it is all in
        big = _http_answer(rpc({"id": rid, "result": {"n": rid, "pad": "x" * 700_000}}))
        writer.write(big[:600_000])
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(big[600_000:])
    else:
        writer.write(whole)
    return True


@pytest.mark.anyio
async def test_each_way_an_answer_can_come_on_a_kept_alive_connection() -> None:
    """A request on a kept-alive connection is started without a task; its answer, whichever
    way it comes, reaches the caller: whole with its head, its body later (by length or
    chunked), an SSE stream, an error status, nothing at all (the server had closed the
    connection: sent once more, on a new one), a connection dropped mid-answer, a body too
    big to wait for whole."""
    seen: list[int] = []

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await read_head(reader)
            except asyncio.IncompleteReadError:
                return
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            rid = json.loads(await reader.readexactly(length))["id"]
            seen.append(rid)
            if not await _respond(rid, writer, seen):
                return
            await writer.drain()

    async with raw_server(script) as base, http_client(base) as transport:
        replies = []
        for rid in range(1, 10):
            await transport.send(rpc({"id": rid, "method": "x"}))
            with anyio.fail_after(5):
                replies.append(json.loads(await transport.receive()))
    assert seen == [1, 2, 3, 4, 5, 5, 6, 7, 8, 9]
    assert [reply["id"] for reply in replies] == list(range(1, 10))
    results = [reply.get("result") for reply in replies]
    replies[8]["result"].pop("pad")
    assert results == [
        {"n": 1},
        {"n": 2},
        {"n": 3},
        None,
        {"n": 5},
        None,
        {"n": 7},
        {"n": 8},
        {"n": 9},
    ]
    assert replies[3]["error"]["code"] == replies[5]["error"]["code"] == -32603
    assert "500" in replies[3]["error"]["message"]
    assert "closed" in replies[5]["error"]["message"]


@pytest.mark.anyio
async def test_legacy_session_headers_get_stream_and_delete() -> None:
    seen: list[tuple[str, str | None, str | None]] = []

    async def handler(request: Request) -> Response:
        session = request.headers.get("mcp-session-id")
        seen.append((request.method, session, request.headers.get("mcp-protocol-version")))
        if request.method != "POST":
            return Response(status_code=405 if request.method == "GET" else 200)
        body = json.loads(await request.body())
        if body.get("method") == "initialize":
            result = {
                "jsonrpc": "2.0",
                "id": body["id"],
                "result": {"protocolVersion": "2025-06-18"},
            }
            return JSONResponse(result, 200, {"Mcp-Session-Id": "s1"})
        if "id" not in body:
            return Response(status_code=202)
        return JSONResponse({"jsonrpc": "2.0", "id": body["id"], "result": {}}, 200)

    async with serve_app(scripted(handler), lifespan="off") as base, http_client(base) as transport:
        with anyio.fail_after(5):
            await transport.send(rpc({"id": 0, "method": "initialize", "params": {}}))
            await transport.receive()
            assert (transport.session_id, transport.protocol_version) == ("s1", "2025-06-18")
            await transport.send(rpc({"method": "notifications/initialized"}))
            await transport.send(rpc({"id": 1, "method": "ping"}))
            assert json.loads(await transport.receive())["id"] == 1
    assert seen[0] == ("POST", None, None)
    assert ("POST", "s1", "2025-06-18") in seen[1:]
    assert ("GET", "s1", "2025-06-18") in seen or len(seen) == 4  # the GET may lose the race
    assert seen[-1] == ("DELETE", "s1", "2025-06-18")


class Forgetful:
    """A legacy server with one live session at a time, named s1, s2, ... as they start.

    `forget()` (or a `forget` request, answered 404) drops the live one; a request for a
    session that is not live gets a 404; at most `limit` sessions are ever started."""

    def __init__(self, limit: int = 2) -> None:
        self.started = 0
        self.live: str | None = None
        self.limit = limit
        self.seen: list[tuple[str | None, Any]] = []
        self.initialized = anyio.Event()

    def forget(self) -> None:
        self.live = None

    async def __call__(self, request: Request) -> Response:
        session = request.headers.get("mcp-session-id")
        if request.method != "POST":
            self.seen.append((session, None))
            return Response(status_code=405 if request.method == "GET" else 200)
        body: dict[str, Any] = json.loads(await request.body())
        self.seen.append((session, body))
        if body["method"] == "notifications/initialized":
            self.initialized.set()
        if body["method"] == "initialize":
            if self.started >= self.limit:
                return Response(status_code=503)
            self.started += 1
            self.live = f"s{self.started}"
            result = {"protocolVersion": "2025-06-18", "echo": body["params"]}
            answer = {"jsonrpc": "2.0", "id": body["id"], "result": result}
            return JSONResponse(answer, headers={"Mcp-Session-Id": self.live})
        if body["method"] == "forget" and session == self.live:
            self.forget()
        if session is None or session != self.live:
            return Response(status_code=404)
        if "id" not in body:
            return Response(status_code=202)
        return JSONResponse({"jsonrpc": "2.0", "id": body["id"], "result": {"s": session}})


async def handshake(transport: HttpClientTransport, server: Forgetful) -> None:
    """Initialize, and wait until the server has taken `notifications/initialized`."""
    await transport.send(rpc({"id": 0, "method": "initialize", "params": {"x": 1}}))
    await transport.receive()
    await transport.send(rpc({"method": "notifications/initialized"}))
    await server.initialized.wait()


@pytest.mark.anyio
async def test_a_lost_session_is_renewed_once_by_replaying_the_handshake() -> None:
    server = Forgetful()
    async with serve_app(scripted(server), lifespan="off") as base, http_client(base) as transport:
        with anyio.fail_after(5):
            await handshake(transport, server)
            server.forget()  # the server lost s1 (a restart, a reaper)
            await transport.send(rpc({"id": 1, "method": "ping"}))
            reply = json.loads(await transport.receive())
    assert reply == {"jsonrpc": "2.0", "id": 1, "result": {"s": "s2"}}
    assert transport.renewals == 1
    replayed = [body for _, body in server.seen if body and body["method"] == "initialize"]
    assert replayed[1] == {
        "jsonrpc": "2.0",
        "id": "mcpkit-reinitialize-1",
        "method": "initialize",
        "params": {"x": 1},
    }
    renewed = [(sid, body["method"]) for sid, body in server.seen if body and sid == "s2"]
    assert renewed[:2] == [("s2", "notifications/initialized"), ("s2", "ping")]


@pytest.mark.anyio
async def test_a_session_lost_again_after_renewal_breaks_the_transport() -> None:
    server = Forgetful(limit=2)
    async with serve_app(scripted(server), lifespan="off") as base, http_client(base) as transport:
        with anyio.fail_after(5):
            await handshake(transport, server)
            await transport.send(rpc({"id": 1, "method": "ping"}))
            assert json.loads(await transport.receive())["result"] == {"s": "s1"}
            server.forget()  # s1 is lost; the renewal gets s2, which is lost at once
            await transport.send(rpc({"id": 2, "method": "forget"}))
            with pytest.raises(BrokenError, match="session expired"):
                await transport.receive()
            with pytest.raises(BrokenError):
                await transport.send(rpc({"id": 3, "method": "ping"}))


@pytest.mark.anyio
async def test_a_server_request_mid_stream_reaches_the_client_while_the_post_is_open() -> None:
    answered = anyio.Event()

    async def events() -> AsyncIterator[bytes]:
        yield b'data: {"jsonrpc":"2.0","id":"s1","method":"ping"}\n\n'
        await answered.wait()  # the stream stays open until the client has answered
        yield b'data: {"jsonrpc":"2.0","id":1,"result":{}}\n\n'

    async def handler(request: Request) -> Response:
        body = json.loads(await request.body())
        if body.get("id") == "s1":
            answered.set()
            return Response(status_code=202)
        return StreamingResponse(events(), media_type="text/event-stream")

    async with serve_app(scripted(handler), lifespan="off") as base, http_client(base) as transport:
        with anyio.fail_after(5):
            await transport.send(rpc({"id": 1, "method": "tools/call", "params": {"name": "t"}}))
            assert json.loads(await transport.receive())["method"] == "ping"
            await transport.send(rpc({"id": "s1", "result": {}}))
            assert json.loads(await transport.receive()) == {
                "jsonrpc": "2.0",
                "id": 1,
                "result": {},
            }


@pytest.mark.anyio
async def test_a_closed_sse_stream_is_resumed_with_last_event_id_then_given_up() -> None:
    gets: list[str | None] = []

    async def handler(request: Request) -> Response:
        sse = {"content-type": "text/event-stream"}
        if request.method == "POST":  # primed, then closed before the response
            return Response(b"id: p1\nretry: 10\ndata:\n\n", headers=sse)
        gets.append(request.headers.get("last-event-id"))
        if len(gets) == 1:  # a replayed event, still no response: resume again from e2
            note = rpc({"method": "notifications/message", "params": {}}).decode()
            return Response(f"id: e2\ndata: {note}\n\n".encode(), headers=sse)
        return Response(status_code=404)

    note, reply = await exchange(handler, rpc({"id": 7, "method": "tools/call"}), answers=2)
    assert note["method"] == "notifications/message"
    assert reply["id"] == 7 and reply["error"]["code"] == -32603
    assert "resuming failed" in reply["error"]["message"]
    assert gets == ["p1", "e2", "e2", "e2"]


@pytest.mark.anyio
async def test_legacy_client_resumes_a_tool_call_whose_stream_mcpkit_closed() -> None:
    def poll(message: dict[str, Any]) -> bool:
        return bool(message.get("params", {}).get("name") == "slow")

    with anyio.fail_after(20):
        async with (
            serving(sse_poll=poll, retry_ms=50) as url,
            Client(url, era="legacy") as client,
        ):
            assert client.era is Era.LEGACY
            result = await client.call_tool("slow", {"seconds": 0.3})
            assert isinstance(result.content[0], TextContent)
            assert result.content[0].text == "slept"


@pytest.mark.anyio
async def test_refused_connection_is_a_connect_error_naming_the_url() -> None:
    url = "http://127.0.0.1:9/mcp"  # discard port: nothing listens there
    with anyio.fail_after(10):
        async with http_client(url) as transport:
            assert transport.describe() == url
            await transport.send(rpc({"id": 1, "method": "ping"}))
            with pytest.raises(ConnectError, match=r"127\.0\.0\.1:9"):
                await transport.receive()
        with pytest.raises(ConnectError, match=r"127\.0\.0\.1:9"):
            async with Client(url):
                pass


# ---- end to end against the official SDK's server ----------------------------------------------


@pytest.fixture(scope="module")
def sdk_url() -> Iterator[str]:
    """The URL of the official SDK's Streamable HTTP server, running for this module."""
    process = subprocess.Popen(
        [sys.executable, str(SERVER_SCRIPT), "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 30)
        line = process.stdout.readline() if ready else ""
        assert line.strip().isdigit(), f"the server did not start (exit {process.poll()})"
        yield f"http://127.0.0.1:{line.strip()}/mcp"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        process.stdout.close() if process.stdout else None


@pytest.mark.anyio
@pytest.mark.interop
@pytest.mark.parametrize(("era", "expected"), [("auto", Era.MODERN), ("legacy", Era.LEGACY)])
async def test_official_sdk_server(
    sdk_url: str, validating: Validating, era: Any, expected: Era
) -> None:
    with anyio.fail_after(30):
        async with (
            http_client(sdk_url) as transport,
            Client(validating(transport, "client"), era=era) as client,
        ):
            assert client.era is expected
            tools = await client.list_tools()
            assert {"add", "shout", "ping_client"} <= {tool.name for tool in tools}
            result = await client.call_tool("add", {"a": 2, "b": 40})
            assert isinstance(result.content[0], TextContent)
            assert result.content[0].text == "42"
            await client.ping()
            if expected is Era.LEGACY:
                assert isinstance(transport, HttpClientTransport)
                assert transport.session_id
                pinged = await client.call_tool("ping_client", {})
                assert isinstance(pinged.content[0], TextContent)
                assert pinged.content[0].text == "client answered the ping"


@pytest.mark.anyio
@pytest.mark.interop
async def test_client_accepts_a_url_and_a_wrong_path_is_a_connect_error(sdk_url: str) -> None:
    with anyio.fail_after(30):
        async with Client(sdk_url, headers={"X-Test": "1"}) as client:
            assert client.era is Era.MODERN
            assert (await client.call_tool("shout", {"text": "hi"})).content
        with pytest.raises(ConnectError, match="404"):
            async with Client(sdk_url.replace("/mcp", "/wrong")):
                pass


# ---- a server killed and restarted -------------------------------------------------------------


class Restartable:
    """`mcpkit server everything` over HTTP in a subprocess, on one port across restarts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = ["-m", "mcpkit", "server", "everything", "--transport", "http"]
        self.process = subprocess.Popen(
            [sys.executable, *argv, "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def ready(self) -> None:
        with anyio.fail_after(30):
            while True:
                assert self.process is not None and self.process.poll() is None
                try:
                    await (await anyio.connect_tcp("127.0.0.1", self.port)).aclose()
                    return
                except OSError:
                    await anyio.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.mark.anyio
@pytest.mark.parametrize("era", ["legacy", "modern"])
async def test_a_killed_and_restarted_server_is_picked_up_again(era: Any) -> None:
    server = Restartable()
    try:
        server.start()
        await server.ready()
        with anyio.fail_after(60):
            async with http_client(server.url) as transport, Client(transport, era=era) as client:
                assert (await client.call_tool("test_simple_text")).content
                server.kill()
                with pytest.raises(InternalError, match="cannot reach"):  # the one retry
                    await client.call_tool("test_simple_text")
                server.start()
                await server.ready()
                assert (await client.call_tool("test_simple_text")).content
                assert (await client.list_tools())[0].name
                assert transport.renewals == (1 if era == "legacy" else 0)
    finally:
        server.kill()
