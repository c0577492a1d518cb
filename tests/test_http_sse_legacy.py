"""The 2024-11-05 HTTP+SSE transport, both sides: mcpkit's server endpoints (`GET /sse`,
`POST /messages/`), its client transport (`sse_client`), the Client's fallback to it, config
entries of `type: sse`, and interop with the official Python SDK on either side.

Layer: tests. Servers run on real uvicorn at a free loopback port (the official SDK's in a
subprocess). Every frame is schema-checked: mcpkit's server wraps each session's transport in
a `ValidatingTransport` of its own (`refereed`), and the transports mcpkit's Client opens are
wrapped too (`checked_sse`); a bad frame fails the test at teardown even if it was swallowed.
"""

from __future__ import annotations

import json
import select
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import uvicorn
from mcp.client import Client as SdkClient
from mcp.client.sse import sse_client as sdk_sse_client
from starlette.applications import Starlette
from starlette.routing import Mount

from mcpkit.client import Client, EraChoice, Handlers, load_config
from mcpkit.protocol.context import CLIENT_CAPABILITIES, CLIENT_INFO, PROTOCOL_VERSION
from mcpkit.protocol.errors import (
    PARSE_ERROR,
    UNSUPPORTED_PROTOCOL_VERSION,
    BrokenError,
    ClosedError,
    ConnectError,
    RPCError,
    TransportError,
)
from mcpkit.protocol.types import TextContent
from mcpkit.protocol.versions import LATEST_LEGACY, LATEST_MODERN, Era
from mcpkit.server import Server
from mcpkit.server.http import MCPHTTPApp, http_app
from mcpkit.testing import FrameSchemaError, FrameValidator, Side, ValidatingTransport
from mcpkit.transports import sse_legacy
from mcpkit.transports.base import Transport
from mcpkit.transports.sse_legacy import sse_client
from tests.framework_server import make_server

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parent.parent
SDK_SSE_SERVER = ROOT / "tests" / "interop" / "official_sse_server.py"
TIMEOUT = 30
# The framework server on Streamable HTTP (+ HTTP+SSE) in a process of its own, to be killed.
FRAMEWORK_PROCESS = """
import socket, uvicorn
from tests.framework_server import make_server
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
sock.listen(16)
print(sock.getsockname()[1], flush=True)
app = make_server().http_app()
uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on")).run(sockets=[sock])
"""

Validating = Callable[[Transport, Side], ValidatingTransport]


# ---- fixtures and helpers ----------------------------------------------------------------


@asynccontextmanager
async def serving(
    server: Server | None = None, *, mount: str = "", **app_kw: Any
) -> AsyncIterator[tuple[MCPHTTPApp, str]]:
    """`http_app` of the framework server on uvicorn at a free loopback port (inside a
    Starlette `Mount` when `mount` is given): the app and its origin (`http://127.0.0.1:P`)."""
    app = http_app(server or make_server(), **app_kw)
    asgi: Any = Starlette(routes=[Mount(mount, app=app)]) if mount else app
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        web = uvicorn.Server(uvicorn.Config(asgi, log_level="warning", lifespan="on"))
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: web.serve(sockets=[sock]))
            yield app, f"http://127.0.0.1:{sock.getsockname()[1]}"
            web.should_exit = True
            await app.aclose()  # ends streams a test left open, so uvicorn can stop


class _Sink:
    """A transport that only sends, to `send`: what a session's server end writes to."""

    def __init__(self, send: Callable[[bytes], Awaitable[None]]) -> None:
        self._send = send

    async def send(self, frame: bytes) -> None:
        await self._send(frame)

    async def receive(self) -> bytes:
        raise AssertionError("an attached connection is fed, it does not receive")

    async def aclose(self) -> None:
        return None

    def describe(self) -> str:
        return "session"


class Referee:
    """Checks every frame of every session `server` serves (HTTP sessions are
    `Server.attach` connections), each with a validator of its own."""

    def __init__(self, server: Server) -> None:
        self.made: list[ValidatingTransport] = []
        attach = server.attach

        def attach_refereed(send: Callable[[bytes], Awaitable[None]], **options: Any) -> Any:
            checked = ValidatingTransport(_Sink(send), FrameValidator(), side="server")
            self.made.append(checked)
            attached = attach(checked.send, **options)
            feed = attached.feed

            async def feed_checked(frame: bytes) -> None:
                checked.check_incoming(frame)
                await feed(frame)

            attached.feed = feed_checked  # type: ignore[method-assign]
            return attached

        server.attach = attach_refereed  # type: ignore[method-assign]

    def failures(self) -> list[FrameSchemaError]:
        return [failure for transport in self.made for failure in transport.failures]


@pytest.fixture
def refereed() -> Iterator[Server]:
    """The framework server, every frame of every session schema-checked."""
    server = make_server()
    referee = Referee(server)
    yield server
    assert referee.made, "the server served no session: nothing was checked"
    failures = referee.failures()
    if failures:
        pytest.fail(f"{len(failures)} bad frame(s), first:\n{failures[0]}", pytrace=False)


@pytest.fixture
def checked_sse(monkeypatch: pytest.MonkeyPatch, validating: Validating) -> Iterator[None]:
    """Every `sse_client` the Client opens in this test comes schema-checked."""
    real = sse_legacy.sse_client
    made: list[Transport] = []

    @asynccontextmanager
    async def checked(url: str, **options: Any) -> AsyncIterator[Transport]:
        async with real(url, **options) as transport:
            made.append(validating(transport, "client"))
            yield made[-1]

    monkeypatch.setattr(sse_legacy, "sse_client", checked)
    yield
    assert made, "the client opened no HTTP+SSE transport: nothing was checked"


def answers(seen: list[tuple[str, Any]]) -> dict[str, Any]:
    """Client options answering the server's asks and recording its notifications."""

    async def elicit(params: dict[str, Any]) -> dict[str, Any]:
        return {"action": "accept", "content": {"name": "Ada"}}

    async def sample(params: dict[str, Any]) -> dict[str, Any]:
        return {"role": "assistant", "content": {"type": "text", "text": "hi!"}, "model": "m"}

    async def note(method: str, params: Any) -> None:
        seen.append((method, params))

    handlers = Handlers(elicitation=elicit, sampling=sample, roots=["file:///home/ada"])
    return {"handlers": handlers, "on_notification": note}


def text(result: Any) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent), block
    return block.text


def rpc(message: dict[str, Any]) -> bytes:
    return json.dumps({"jsonrpc": "2.0", **message}).encode()


INITIALIZE = {
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2024-11-05",
        "capabilities": {},
        "clientInfo": {"name": "old-client", "version": "0.1"},
    },
}

DISCOVER = {
    "id": 0,
    "method": "server/discover",
    "params": {
        "_meta": {
            PROTOCOL_VERSION: LATEST_MODERN,
            CLIENT_CAPABILITIES: {},
            CLIENT_INFO: {"name": "new-client", "version": "0.1"},
        }
    },
}


@contextmanager
def port_printer(argv: list[str]) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """A server process that prints its port once listening; stopped on exit."""
    process = subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], TIMEOUT)
        line = process.stdout.readline() if ready else ""
        assert line.strip().isdigit(), f"the server did not start (exit {process.poll()})"
        yield process, int(line)
    finally:
        process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


# ---- mcpkit's Client against mcpkit's server ---------------------------------------------


async def test_forced_sse_transport_end_to_end(refereed: Server, checked_sse: None) -> None:
    seen: list[tuple[str, Any]] = []
    with anyio.fail_after(TIMEOUT):
        async with serving(refereed) as (app, origin):
            url = origin + "/sse"
            async with Client(url, transport="sse", **answers(seen)) as client:
                assert client.era is Era.LEGACY
                assert client.protocol_version == LATEST_LEGACY
                assert (len(app.sse_sessions), len(app.sessions)) == (1, 0)
                (session,) = app.sse_sessions.sessions.values()
                await client.ping()
                assert "forecast" in {tool.name for tool in await client.list_tools()}
                added = await client.call_tool("add", {"a": 2, "b": 40})
                assert added.structured_content == {"result": 42}
                assert text(await client.call_tool("greet")) == "Hello, Ada!"  # elicitation
                asked = await client.call_tool("two_questions")  # elicit + sample + roots
                assert text(asked) == "Ada / hi! / 1 roots"
                ticks: list[float] = []
                chatty = await client.call_tool(
                    "chatty", on_progress=lambda event: ticks.append(event.progress)
                )
                assert text(chatty) == "done"
                assert ticks == [1, 2, 3]
                levels = [p.level for m, p in seen if m == "notifications/message"]
                assert levels == ["info", "error"]
            await session.finished.wait()  # the GET stream closed: the session ended
            assert len(app.sse_sessions) == 0


@pytest.mark.parametrize("era", ["auto", "legacy"])
async def test_a_url_of_an_old_server_is_detected(
    refereed: Server, checked_sse: None, era: EraChoice
) -> None:
    """POSTs to `/sse` are refused (405), so the Client retries with HTTP+SSE."""
    with anyio.fail_after(TIMEOUT):
        async with serving(refereed) as (app, origin), Client(origin + "/sse", era=era) as client:
            assert client.era is Era.LEGACY
            assert (len(app.sse_sessions), len(app.sessions)) == (1, 0)
            added = await client.call_tool("add", {"a": 1, "b": 2})
            assert added.structured_content == {"result": 3}
            await client.ping()


async def test_a_streamable_url_does_not_fall_back() -> None:
    with anyio.fail_after(TIMEOUT):
        async with serving() as (app, origin), Client(origin + "/mcp", era="legacy") as client:
            assert client.era is Era.LEGACY
            assert (len(app.sse_sessions), len(app.sessions)) == (0, 1)


async def test_a_wrong_url_keeps_the_streamable_http_error() -> None:
    with anyio.fail_after(TIMEOUT):
        async with serving() as (_, origin):
            with pytest.raises(RPCError, match="not found"):  # what the POST got, not the GET
                async with Client(origin + "/nowhere"):
                    pass
            with pytest.raises(ConnectError, match="HTTP 404"):
                async with Client(origin + "/nowhere", transport="sse"):
                    pass


async def test_a_2024_11_05_client_gets_2024_11_05(validating: Validating) -> None:
    with anyio.fail_after(TIMEOUT):
        async with serving() as (app, origin), sse_client(origin + "/sse") as transport:
            (session,) = app.sse_sessions.sessions.values()
            assert transport.endpoint == f"{origin}/messages/?session_id={session.id}"
            assert len(session.id) >= 32  # secrets.token_urlsafe(32)
            checked = validating(transport, "client")
            await checked.send(rpc(DISCOVER))  # the modern era is not served over HTTP+SSE
            refused = json.loads(await checked.receive())
            assert refused["error"]["code"] == UNSUPPORTED_PROTOCOL_VERSION
            await checked.send(rpc(INITIALIZE))
            answer = json.loads(await checked.receive())
            assert answer["result"]["protocolVersion"] == "2024-11-05"
            await checked.send(rpc({"method": "notifications/initialized"}))
            await checked.send(rpc({"id": 2, "method": "tools/list"}))
            listed = json.loads(await checked.receive())
            assert "add" in {tool["name"] for tool in listed["result"]["tools"]}


async def test_closing_the_stream_ends_the_session() -> None:
    with anyio.fail_after(TIMEOUT):
        async with serving() as (app, origin):
            async with sse_client(origin + "/sse") as transport:
                (session,) = app.sse_sessions.sessions.values()
                await transport.send(rpc(INITIALIZE))
                await transport.receive()
            await session.finished.wait()
            assert len(app.sse_sessions) == 0
            with pytest.raises(ClosedError):
                await transport.receive()
            with pytest.raises(ClosedError):
                await transport.send(rpc({"id": 2, "method": "ping"}))


async def test_a_config_entry_of_type_sse_builds_a_working_client(
    refereed: Server, checked_sse: None
) -> None:
    with anyio.fail_after(TIMEOUT):
        async with serving(refereed) as (app, origin):
            entry = {"type": "sse", "url": origin + "/sse", "headers": {"X-Test": "1"}}
            config = load_config({"mcpServers": {"old": entry}})["old"]
            assert config.transport == "sse"
            async with config.to_client(era="modern") as client:  # the entry's transport wins
                assert client.era is Era.LEGACY
                assert len(app.sse_sessions) == 1
                assert "add" in {tool.name for tool in await client.list_tools()}


# ---- bad input -----------------------------------------------------------------------------


async def test_bad_message_posts_are_refused_and_the_session_survives() -> None:
    with anyio.fail_after(TIMEOUT):
        async with (
            serving(max_body=1024) as (app, origin),
            sse_client(origin + "/sse") as transport,
            httpx.AsyncClient() as http,
        ):
            endpoint = transport.endpoint
            assert endpoint is not None
            no_session = await http.post(origin + "/messages/", content=rpc(INITIALIZE))
            assert no_session.status_code == 400
            assert "session_id" in no_session.json()["error"]["message"]
            unknown = await http.post(origin + "/messages/?session_id=x", content=b"{}")
            assert unknown.status_code == 404
            assert "unknown or ended session" in unknown.json()["error"]["message"]
            garbage = await http.post(endpoint, content=b"{not json")
            assert garbage.status_code == 400
            assert garbage.json()["error"]["code"] == PARSE_ERROR
            assert (await http.post(endpoint, content=b"[]")).status_code == 400
            assert (await http.post(endpoint, content=b" " * 2048)).status_code == 413
            evil = {"Origin": "http://evil.example"}
            assert (await http.post(endpoint, content=b"{}", headers=evil)).status_code == 403
            assert (await http.get(origin + "/sse", headers=evil)).status_code == 403
            wrong_get = await http.get(endpoint)
            assert (wrong_get.status_code, wrong_get.headers["allow"]) == (405, "POST")
            wrong_post = await http.post(origin + "/sse", content=b"{}")
            assert (wrong_post.status_code, wrong_post.headers["allow"]) == (405, "GET")
            assert len(app.sse_sessions) == 1  # none of that hurt the session
            await transport.send(rpc(INITIALIZE))
            assert json.loads(await transport.receive())["result"]["serverInfo"]


async def test_stream_headers_keepalive_comments_and_the_session_cap() -> None:
    with anyio.fail_after(TIMEOUT):
        async with (
            serving(max_sessions=1, sse_keepalive=0.05) as (_, origin),
            httpx.AsyncClient() as http,
            http.stream("GET", origin + "/sse") as stream,
        ):
            assert stream.headers["content-type"] == "text/event-stream"
            assert stream.headers["x-accel-buffering"] == "no"  # proxies must not buffer
            assert (await http.get(origin + "/sse")).status_code == 503  # one session at most
            seen = b""
            async for chunk in stream.aiter_bytes():
                seen += chunk
                if b": ping" in seen:
                    break
            assert seen.startswith(b"event: endpoint\ndata: /messages/?session_id=")


async def test_the_endpoint_is_under_the_mount_point(checked_sse: None) -> None:
    with anyio.fail_after(TIMEOUT):
        async with (
            serving(mount="/api") as (app, origin),
            Client(origin + "/api/sse", transport="sse") as client,
        ):
            (session,) = app.sse_sessions.sessions.values()
            endpoint = getattr(client.peer.transport, "endpoint", None)  # checked: passes it on
            assert endpoint == f"{origin}/api/messages/?session_id={session.id}"
            assert "add" in {tool.name for tool in await client.list_tools()}


async def test_the_old_transport_can_be_turned_off() -> None:
    with anyio.fail_after(TIMEOUT):
        async with serving(sse_path=None) as (_, origin), httpx.AsyncClient() as http:
            assert (await http.get(origin + "/sse")).status_code == 404
            assert (await http.post(origin + "/messages/", content=b"{}")).status_code == 404


def scripted(
    events: bytes, post: Callable[[httpx.Request], httpx.Response] | None = None, *, end: bool
) -> httpx.AsyncClient:
    """An httpx client whose server streams `events` on GET (then hangs, unless `end`) and
    answers POSTs with `post`."""

    async def stream() -> AsyncIterator[bytes]:
        yield events
        if not end:
            await anyio.sleep_forever()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and post is not None:
            return post(request)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=stream())

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("endpoint", "problem"),
    [
        ("http://evil.example/messages/?session_id=1", "not on the origin"),
        ("//evil.example/messages/", "not on the origin"),
        ("https://mcp.test/messages/", "not on the origin"),
        ("http://mcp.test:8080/messages/", "not on the origin"),
    ],
)
async def test_the_client_refuses_a_cross_origin_endpoint(endpoint: str, problem: str) -> None:
    events = f"event: endpoint\ndata: {endpoint}\n\n".encode()
    with anyio.fail_after(TIMEOUT):
        async with scripted(events, end=False) as http:
            with pytest.raises(ConnectError, match=problem):
                async with sse_client("http://mcp.test/sse", httpx_client=http):
                    pass


@pytest.mark.parametrize(
    ("events", "end", "problem"),
    [
        (b'event: message\ndata: {"jsonrpc": "2.0", "method": "x"}\n\n', False, "not 'endpoint'"),
        (b": only a comment\n\n", True, "ended before its endpoint event"),
    ],
)
async def test_the_first_event_must_be_endpoint(events: bytes, end: bool, problem: str) -> None:
    with anyio.fail_after(TIMEOUT):
        async with scripted(events, end=end) as http:
            with pytest.raises(ConnectError, match=problem):
                async with sse_client("http://mcp.test/sse", httpx_client=http):
                    pass


async def test_a_same_origin_endpoint_is_resolved_against_the_stream_url() -> None:
    with anyio.fail_after(TIMEOUT):
        async with (
            scripted(b"event: endpoint\ndata: messages?session_id=7\n\n", end=False) as http,
            sse_client("http://mcp.test/mount/sse", httpx_client=http) as transport,
        ):
            assert transport.endpoint == "http://mcp.test/mount/messages?session_id=7"


async def test_refused_posts_answer_their_requests_and_a_dropped_stream_breaks() -> None:
    def post(request: httpx.Request) -> httpx.Response:
        message = json.loads(request.content)
        if message.get("id") == 2:
            return httpx.Response(
                400, json={"jsonrpc": "2.0", "error": {"code": -32600, "message": "no"}}
            )
        return httpx.Response(500, text="boom")

    events = b"event: endpoint\ndata: /messages/?session_id=1\n\n"
    with anyio.fail_after(TIMEOUT):
        async with (
            scripted(events, post, end=False) as http,
            sse_client("http://mcp.test/sse", httpx_client=http) as transport,
        ):
            await transport.send(rpc({"method": "notifications/initialized"}))  # only logged
            await transport.send(rpc({"id": 1, "method": "ping"}))
            await transport.send(rpc({"id": 2, "method": "ping"}))
            first, second = (
                json.loads(await transport.receive()),
                json.loads(await transport.receive()),
            )
            assert first["id"] == 1 and first["error"]["code"] == -32603
            assert "HTTP 500" in first["error"]["message"]
            assert second["id"] == 2 and second["error"]["code"] == -32600
            assert second["error"]["message"].endswith(": no")
        async with (
            scripted(events, post, end=True) as http,
            sse_client("http://mcp.test/sse", httpx_client=http) as transport,
        ):
            with pytest.raises(BrokenError, match="ended the SSE stream"):
                await transport.receive()
            with pytest.raises(BrokenError):
                await transport.send(rpc({"id": 3, "method": "ping"}))


async def test_an_unreachable_server_is_a_connect_error() -> None:
    with anyio.fail_after(TIMEOUT), pytest.raises(ConnectError, match=r"127\.0\.0\.1:9"):
        async with Client("http://127.0.0.1:9/sse", transport="sse"):
            pass


async def test_the_server_dying_mid_request_fails_the_request() -> None:
    failures: list[BaseException] = []
    with port_printer([sys.executable, "-c", FRAMEWORK_PROCESS]) as (process, port):
        with anyio.fail_after(TIMEOUT):
            async with Client(f"http://127.0.0.1:{port}/sse", transport="sse") as client:
                ticked = anyio.Event()

                async def call() -> None:
                    try:
                        arguments = {"ticks": 100_000, "interval": 0.05}
                        await client.call_tool(
                            "ticking", arguments, on_progress=lambda _: ticked.set()
                        )
                    except TransportError as exc:
                        failures.append(exc)

                async with anyio.create_task_group() as tg:
                    tg.start_soon(call)
                    await ticked.wait()  # the request is being served: now kill the server
                    process.kill()
    assert len(failures) == 1 and isinstance(failures[0], TransportError), failures


# ---- interop with the official Python SDK ------------------------------------------------


@pytest.mark.interop
async def test_official_sdk_client_against_mcpkit(refereed: Server) -> None:
    with anyio.fail_after(TIMEOUT):
        async with serving(refereed) as (app, origin):
            transport = sdk_sse_client(origin + "/sse")
            async with SdkClient(transport, mode="legacy", read_timeout_seconds=TIMEOUT) as client:
                assert client.server_info is not None
                assert client.server_info.name == "framework"
                assert len(app.sse_sessions) == 1
                listed = await client.list_tools()
                assert "add" in {tool.name for tool in listed.tools}
                result = await client.call_tool("add", {"a": 2, "b": 40})
                assert result.structured_content == {"result": 42}
                await client.session.send_ping()
                (session,) = app.sse_sessions.sessions.values()
            await session.finished.wait()
            assert len(app.sse_sessions) == 0


@pytest.fixture(scope="module")
def sdk_sse_url() -> Iterator[str]:
    """The official SDK's HTTP+SSE server, running for this module."""
    with port_printer([sys.executable, str(SDK_SSE_SERVER), "0"]) as (_, port):
        yield f"http://127.0.0.1:{port}/sse"


@pytest.mark.interop
@pytest.mark.parametrize("transport", ["sse", "auto"])
async def test_mcpkit_client_against_the_official_sdk_server(
    sdk_sse_url: str, checked_sse: None, transport: Any
) -> None:
    seen: list[tuple[str, Any]] = []
    with anyio.fail_after(TIMEOUT):
        async with Client(sdk_sse_url, transport=transport, **answers(seen)) as client:
            assert client.era is Era.LEGACY
            assert client.server_info["name"] == "official-sse-server"
            tools = {tool.name for tool in await client.list_tools()}
            assert {"add", "ping_client", "chatty"} <= tools
            assert text(await client.call_tool("add", {"a": 2, "b": 40})) == "42"
            pinged = await client.call_tool("ping_client")  # the server asks mid-call
            assert text(pinged) == "client answered the ping"
            ticks: list[float] = []
            chatty = await client.call_tool(
                "chatty", on_progress=lambda event: ticks.append(event.progress)
            )
            assert text(chatty) == "done"
            assert ticks == [1, 2]
            assert "notifications/message" in {method for method, _ in seen}
            await client.ping()
