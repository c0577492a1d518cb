"""Interop over Streamable HTTP: mcpkit against peers it shares no code with, on real sockets.

Why: `tests/test_interop*.py` pair mcpkit with independent implementations over stdio pipes.
HTTP has misreadings of its own to hide: which answers come as one JSON body and which as an
SSE stream, where a server's ask or notification travels when the POST answers with JSON
(the legacy GET stream, or nowhere), sessions (`Mcp-Session-Id`) or none (stateless, and every
2026-07-28 request), and how a client tells a legacy HTTP server from a modern one. Three
pairings, each run on 127.0.0.1:

1. the official Python SDK's (`mcp` 2.3.0) Streamable HTTP client against mcpkit's ASGI app on
   uvicorn, in both of mcpkit's response modes (JSON and SSE) and both eras. mcpkit is the
   server there, so a `Referee` middleware shows every frame of the conversation (request
   bodies, JSON response bodies, SSE events) to the schema validator;
2. mcpkit's client against the SDK's HTTP server (`tests/interop/official_http_everything.py`)
   in its SSE, JSON and stateless modes, both eras;
3. mcpkit's client against the npm reference server `@modelcontextprotocol/server-everything`
   in its `streamableHttp` mode, a legacy-only server: the modern probe must fall back.

Where mcpkit is the client, every frame goes through `ValidatingTransport` (but for one test
of the spelling users write, `Client(url)`, which builds its own transport). The peer servers
run as subprocesses in process groups of their own, one per module (and per SDK mode), and the
whole group is killed afterwards. The npm server is installed by `make setup` into `.cache/npm`
(`$MCPKIT_NPM_DIR`); without it its tests skip on a developer machine but fail in CI.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, NamedTuple

import anyio
import mcp_types as sdk
import pytest
from mcp.client import Client as SdkClient

from mcpkit.client import Client
from mcpkit.protocol.errors import RPCError
from mcpkit.protocol.events import ProgressReceived
from mcpkit.protocol.types import TextContent
from mcpkit.protocol.versions import LEGACY_VERSIONS, Era
from mcpkit.testing import Direction, FrameSchemaError, FrameValidator, Side, ValidatingTransport
from mcpkit.transports.base import Transport
from mcpkit.transports.http import http_client
from mcpkit.transports.http_sse import SSEParser
from tests.framework_server import make_server
from tests.http_harness import free_port, serve_app
from tests.test_interop import MODERN, ROOT, Recording, _everything_command
from tests.test_interop_client import (
    ASKS,
    MODEL,
    ROOT_URI,
    SAMPLED,
    Asked,
    _asks_sent,
    _one_text,
    _simulated,
    _texts,
)
from tests.test_interop_framework import STEPS, _elicit, _roots, _sample, _text

pytestmark = [pytest.mark.anyio, pytest.mark.interop]

TIMEOUT = 30  # seconds for one whole test: the peers are already running
STARTUP = 30  # seconds for a peer process to say it is listening
LISTEN = 10  # seconds to wait for a notification the server sends right away
LEGACY = "2025-11-25"

Validating = Callable[[Transport, Side], ValidatingTransport]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


# ---- peers in subprocesses ---------------------------------------------------------------


@contextlib.contextmanager
def _spawned(
    argv: list[str],
    banner: Callable[[str], str | None],
    *,
    from_stderr: bool = False,
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """Run `argv` in a process group of its own until the block ends.

    Yields what `banner` makes of the first line (of stdout, or of stderr) it accepts: the
    peer's URL. The other stream is discarded; the banner's stream is drained afterwards so
    the peer never blocks on a full pipe. The whole group is killed at the end.
    """
    process = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        start_new_session=True,  # its own process group: killed as one, never leaked
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL if from_stderr else subprocess.PIPE,
        stderr=subprocess.PIPE if from_stderr else subprocess.DEVNULL,
    )
    stream = process.stderr if from_stderr else process.stdout
    assert stream is not None
    drain = threading.Thread(target=_drain, args=(stream.fileno(),), daemon=True)
    try:
        url = _wait_for_banner(process, stream.fileno(), banner)
        drain.start()
        yield url
    finally:
        _kill_group(process)
        if drain.is_alive():
            drain.join(timeout=10)
        stream.close()


def _wait_for_banner(
    process: subprocess.Popen[bytes], fd: int, banner: Callable[[str], str | None]
) -> str:
    """Read lines from `fd` until `banner` accepts one; fail if the peer exits or is slow."""
    deadline = time.monotonic() + STARTUP
    seen = b""
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        chunk = os.read(fd, 4096) if ready else b""
        if not chunk:  # end of file (the peer exited) or out of time
            break
        seen += chunk
        for line in seen.decode(errors="replace").splitlines()[: seen.count(b"\n")]:
            url = banner(line)
            if url is not None:
                return url
    pytest.fail(f"{process.args!r} did not start (exit {process.poll()}); it said {seen!r}")


def _drain(fd: int) -> None:
    """Read and drop what the peer writes until it exits (end of file)."""
    while os.read(fd, 4096):
        pass


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the peer's process group; SIGKILL what is left of it a few seconds later."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)
    with contextlib.suppress(ProcessLookupError):  # stragglers, or a peer ignoring SIGTERM
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


class SdkServer(NamedTuple):
    url: str
    mode: str  # "sse" (the SDK's default), "json" or "stateless"


SDK_FLAGS = {"sse": [], "json": ["--json"], "stateless": ["--stateless"]}


@pytest.fixture(scope="module", params=list(SDK_FLAGS))
def sdk_server(request: pytest.FixtureRequest) -> Iterator[SdkServer]:
    """The official SDK's HTTP server in one of its modes, running for this module."""
    mode: str = request.param
    argv = [sys.executable, "-m", "tests.interop.official_http_everything", "0", *SDK_FLAGS[mode]]

    def banner(line: str) -> str | None:  # the script prints its port once it listens
        return f"http://127.0.0.1:{line.strip()}/mcp" if line.strip().isdigit() else None

    with _spawned(argv, banner) as url:
        yield SdkServer(url, mode)


@pytest.fixture(scope="module")
def npm_url() -> Iterator[str]:
    """The npm reference server in `streamableHttp` mode, running for this module."""
    node, entry, _ = _everything_command()  # skips (fails in CI) if it is not installed
    port = free_port()  # it takes its port from $PORT and listens on every interface

    def banner(line: str) -> str | None:  # "MCP Streamable HTTP Server listening on port N"
        return f"http://127.0.0.1:{port}/mcp" if f"listening on port {port}" in line else None

    env = {**os.environ, "PORT": str(port)}
    with _spawned([node, entry, "streamableHttp"], banner, from_stderr=True, env=env) as url:
        yield url


# ---- mcpkit's server, refereed -----------------------------------------------------------


class _Reply:
    """The frames of one HTTP response: the whole body if it is JSON, each event's data if it
    is an SSE stream (checked as the events pass, before the client can answer them)."""

    def __init__(self, check: Callable[[bytes | str, Direction], None]) -> None:
        self.check = check
        self.sse: SSEParser | None = None
        self.body = bytearray()

    def see(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers", []))
            if headers.get(b"content-type", b"").startswith(b"text/event-stream"):
                self.sse = SSEParser()
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"")
            if self.sse is not None:
                for event in self.sse.feed(chunk):
                    if event.data:  # a priming event carries no frame
                        self.check(event.data, "s2c")
                return
            self.body.extend(chunk)
            if not message.get("more_body", False) and self.body:
                self.check(bytes(self.body), "s2c")


class Referee:
    """ASGI middleware that shows every JSON-RPC frame of an HTTP conversation to a validator.

    POST bodies travel client->server, response bodies and SSE events server->client. A bad
    frame is kept in `failures` rather than raised, so the peer still gets exactly what the
    server sent; a body that is not JSON (a plain-text 4xx) is recorded as skipped. `sent`
    keeps each server->client frame with the HTTP method of the response it went out on
    (`POST`, or `GET` for the legacy standalone stream).
    """

    def __init__(self, app: ASGIApp, validator: FrameValidator) -> None:
        self.app = app
        self.validator = validator
        self.failures: list[FrameSchemaError] = []
        self.sent: list[tuple[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":  # lifespan
            await self.app(scope, receive, send)
            return
        body = bytearray()
        reply = _Reply(lambda frame, direction: self._check(frame, direction, scope["method"]))

        async def receive_checked() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                body.extend(message.get("body", b""))
                if not message.get("more_body", False) and body:
                    self._check(bytes(body), "c2s", scope["method"])
            return message

        async def send_checked(message: Any) -> None:
            reply.see(message)
            await send(message)

        await self.app(scope, receive_checked, send_checked)

    def _check(self, frame: bytes | str, direction: Direction, http_method: str) -> None:
        if direction == "s2c":
            with contextlib.suppress(ValueError):
                self.sent.append((http_method, json.loads(frame)))
        try:
            self.validator.check(frame, direction)
        except FrameSchemaError as exc:
            self.failures.append(exc)

    def progress_on(self, http_method: str) -> list[Any]:
        """The `notifications/progress` frames sent on responses to `http_method`."""
        return [
            frame
            for method, frame in self.sent
            if method == http_method and frame.get("method") == "notifications/progress"
        ]


@contextlib.asynccontextmanager
async def _mcpkit_served(
    json_response: bool, validator: FrameValidator
) -> AsyncIterator[tuple[str, Referee]]:
    """`tests/framework_server.py` on uvicorn behind a `Referee`; yields the MCP URL and the
    referee, and fails the test if any frame of the conversation broke the schema."""
    referee = Referee(make_server().http_app(json_response=json_response), validator)
    async with serve_app(referee) as base:
        yield f"{base}/mcp", referee
    if referee.failures:
        pytest.fail(f"{len(referee.failures)} bad frame(s), first:\n{referee.failures[0]}")


@contextlib.asynccontextmanager
async def _sdk_client(url: str, mode: str, **options: Any) -> AsyncIterator[SdkClient]:
    """The SDK's client on `url` (a URL makes it speak Streamable HTTP), in `mode`'s era."""
    async with SdkClient(url, mode=mode, read_timeout_seconds=TIMEOUT, **options) as client:
        assert client.protocol_version == (LEGACY if mode == "legacy" else MODERN)
        yield client


class Heard:
    """What the SDK client's logging and progress callbacks got; `wait_for` blocks (bounded
    by the caller) until a condition on them holds."""

    def __init__(self) -> None:
        self.logs: list[tuple[str, Any]] = []
        self.progress: list[tuple[float, float | None, str | None]] = []
        self._news = anyio.Event()

    async def on_log(self, params: sdk.LoggingMessageNotificationParams) -> None:
        self.logs.append((params.level, params.data))
        self._news.set()

    async def on_progress(self, progress: float, total: float | None, message: str | None) -> None:
        self.progress.append((progress, total, message))
        self._news.set()

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        while not condition():
            self._news = anyio.Event()
            await self._news.wait()


def _first_call(validator: FrameValidator) -> str | None:
    return next(r.method for r in validator.records if r.direction == "c2s" and r.method)


SDK_MODES = ["legacy", "auto", MODERN]  # handshake; probe then modern; pinned modern
RESPONSES = pytest.mark.parametrize("json_response", [False, True], ids=["sse", "json"])


# ---- 1. the official SDK's HTTP client -> mcpkit's HTTP server ---------------------------


async def test_the_referee_sees_inside_sse_streams() -> None:
    """The referee is not a rubber stamp: a result of the wrong shape, split across two
    chunks of an SSE stream, is caught and kept while the bytes still reach the client."""
    request = b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}'
    chunks = [b'event: message\ndata: {"jsonrpc": "2.0", "id": 1, ', b'"result": {"tools": 7}}\n\n']
    sent: list[bytes] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        headers = [(b"content-type", b"text/event-stream")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for index, chunk in enumerate(chunks, start=1):
            more = index < len(chunks)
            await send({"type": "http.response.body", "body": chunk, "more_body": more})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": request, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message.get("body", b""))

    referee = Referee(app, FrameValidator(default_version=LEGACY))
    with anyio.fail_after(TIMEOUT):
        await referee({"type": "http", "method": "POST"}, receive, send)
    assert b"".join(sent) == b"".join(chunks)
    [failure] = referee.failures
    assert (failure.direction, failure.definition) == ("s2c", "ListToolsResult"), failure


@RESPONSES
@pytest.mark.parametrize("mode", SDK_MODES)
async def test_sdk_client_lists_calls_reads_and_gets(
    mode: str, json_response: bool, frame_validator: FrameValidator
) -> None:
    """Connect (initialize, the discover probe, or neither), list tools, call tools with
    structured output (checked by the SDK against the listed schema), read a templated
    resource, get a prompt with arguments."""
    with anyio.fail_after(TIMEOUT):
        async with (
            _mcpkit_served(json_response, frame_validator) as (url, _),
            _sdk_client(url, mode) as client,
        ):
            if mode != MODERN:  # pinned: the SDK adopts the version without asking
                assert client.server_info is not None
                assert client.server_info.name == "framework"
            tools = {tool.name for tool in (await client.list_tools()).tools}
            assert {"forecast", "add", "greet", "chatty"} <= tools
            weather = await client.call_tool("forecast", {"city": "Oslo", "unit": "fahrenheit"})
            summed = await client.call_tool("add", {"a": 2, "b": 40})
            item = await client.read_resource("test://items/7")
            got = await client.get_prompt("review", {"code": "fn main() {}", "language": "rust"})
    assert weather.is_error is False
    assert weather.structured_content == {"city": "Oslo", "temperature": 21.5, "unit": "fahrenheit"}
    assert (summed.structured_content, _text(summed.content[0])) == ({"result": 42}, "42")
    (contents,) = item.contents
    assert json.loads(getattr(contents, "text", "")) == {"id": 7, "double": 14}
    assert _text(got.messages[0].content) == "Please review this rust code:\nfn main() {}"
    first = {"legacy": "initialize", "auto": "server/discover", MODERN: "tools/list"}[mode]
    assert _first_call(frame_validator) == first


@RESPONSES
@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_sdk_client_answers_elicitation_sampling_and_roots(
    mode: str, json_response: bool, frame_validator: FrameValidator
) -> None:
    """`greet` elicits a name; `two_questions` asks for elicitation and sampling at once, then
    roots. Legacy: real server->client requests (on the POST's stream, or the GET stream when
    the POST answers with JSON); modern: `InputRequiredResult` rounds the SDK retries."""
    callbacks: dict[str, Any] = {
        "elicitation_callback": _elicit,
        "sampling_callback": _sample,
        "list_roots_callback": _roots,
    }
    with anyio.fail_after(TIMEOUT):
        async with (
            _mcpkit_served(json_response, frame_validator) as (url, _),
            _sdk_client(url, mode, **callbacks) as client,
        ):
            greeted = await client.call_tool("greet")
            asked = await client.call_tool("two_questions")
    assert [_text(block) for block in greeted.content] == ["Hello, Ada!"]
    assert [_text(block) for block in asked.content] == ["Ada / hi! / 1 roots"]
    expected = sorted(["elicitation/create", *ASKS]) if mode == "legacy" else []
    assert sorted(_asks_sent(frame_validator)) == expected


@RESPONSES
@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_sdk_client_hears_logs_and_progress(
    mode: str, json_response: bool, frame_validator: FrameValidator
) -> None:
    """`chatty` logs at debug, info and error, then reports three progress steps. On SSE
    answers the SDK's callbacks hear info and error (never debug) and every step, all on the
    POST's own stream. A modern JSON answer carries the response alone (modern HTTP has no
    GET stream), so nothing is heard. Legacy JSON: the logs come on the GET stream; where its
    progress goes is `test_legacy_json_keeps_a_requests_progress_off_the_get_stream`."""
    heard = Heard()
    options: dict[str, Any] = {"logging_callback": heard.on_log}
    if mode != "legacy":
        options["log_level"] = "info"  # modern: the request opts in to logs in its `_meta`
    with anyio.fail_after(TIMEOUT):
        async with (
            _mcpkit_served(json_response, frame_validator) as (url, referee),
            _sdk_client(url, mode, **options) as client,
        ):
            result = await client.call_tool("chatty", progress_callback=heard.on_progress)
            with anyio.fail_after(LISTEN):
                if not json_response:
                    await heard.wait_for(lambda: len(heard.progress) == len(STEPS))
                elif mode == "legacy":
                    await heard.wait_for(lambda: len(heard.logs) == 2)
    assert [_text(block) for block in result.content] == ["done"]
    if mode != "legacy" and json_response:
        assert (heard.logs, heard.progress) == ([], [])
        return
    assert heard.logs == [("info", "working"), ("error", "something odd")]
    if not json_response:
        assert heard.progress == STEPS
        assert referee.progress_on("GET") == []


async def test_legacy_json_keeps_a_requests_progress_off_the_get_stream(
    frame_validator: FrameValidator,
) -> None:
    """A JSON answer cannot carry a request's progress. Sent on the standalone GET stream
    instead (spec 2025-11-25 basic/transports: what goes there SHOULD be unrelated to any
    running request), it reaches the client on another connection, in no fixed order with
    the response, and a client that has the response already drops it as stale (the SDK
    does). mcpkit answers a request that asked for progress with SSE even in JSON mode.

    `greet` before `chatty` makes sure the GET stream is open (its elicitation travels
    there); `greet` after it makes sure everything queued for that stream meanwhile, in
    order, was written before the test looks."""
    heard = Heard()
    with anyio.fail_after(TIMEOUT):
        async with (
            _mcpkit_served(True, frame_validator) as (url, referee),
            _sdk_client(url, "legacy", elicitation_callback=_elicit) as client,
        ):
            await client.call_tool("greet")
            await client.call_tool("chatty", progress_callback=heard.on_progress)
            await client.call_tool("greet")
    progress = [frame["params"]["progress"] for frame in referee.progress_on("GET")]
    assert progress == [], (
        f"progress {progress} went on the GET stream; the SDK heard {heard.progress}"
    )
    assert heard.progress == STEPS


# ---- 2. mcpkit's client -> the official SDK's HTTP server --------------------------------

ERAS = [
    pytest.param("auto", Era.MODERN, id="modern"),
    pytest.param("legacy", Era.LEGACY, id="legacy"),
]


class Told(Asked):
    """`Asked`, plus the progress the client was told (wait for it with `wait_for`)."""

    def __init__(self) -> None:
        super().__init__()
        self.progress: list[tuple[float, float | None, str | None]] = []

    def on_progress(self, event: ProgressReceived) -> None:
        self.progress.append((event.progress, event.total, event.message))
        self._news.set()


@pytest.mark.parametrize(("choice", "era"), ERAS)
async def test_mcpkit_client_lists_calls_reads_and_gets(
    sdk_server: SdkServer, choice: Any, era: Era, validating: Validating
) -> None:
    """Negotiate over HTTP, list, call a structured tool (output checked against the listed
    schema), read a static and a templated resource, get a prompt, complete an argument. A
    legacy session has an `Mcp-Session-Id`, unless the server is stateless."""
    with anyio.fail_after(TIMEOUT):
        async with (
            http_client(sdk_server.url) as transport,
            Client(validating(transport, "client"), era=choice) as client,
        ):
            assert (client.era, client.server_info["name"]) == (era, "official-everything")
            tools = [tool.name for tool in await client.list_tools()]
            assert {"ask_llm", "ask_user", "ask_everything", "forecast", "chatty"} <= set(tools)
            weather = await client.call_tool("forecast", {"city": "Oslo"})
            assert weather.structured_content == {"city": "Oslo", "temperature": 21.5}
            readme = _one_text((await client.read_resource("doc://readme")).contents)
            greeting = _one_text((await client.read_resource("greeting://Ada")).contents)
            got = await client.get_prompt("review", {"code": "print(1)", "language": "perl"})
            ref = {"type": "ref/prompt", "name": "review"}
            completed = await client.complete(ref, "language", "p")
            session = transport.session_id
    assert (readme, greeting) == ("This server asks its client for things.", "Hello, Ada!")
    content = got.messages[0].content
    assert isinstance(content, TextContent)
    assert content.text == "Please review this perl code:\nprint(1)"
    assert completed.completion.values == ["python", "perl", "php"]
    has_session = era is Era.LEGACY and sdk_server.mode != "stateless"
    assert (session is not None) == has_session, session


@pytest.mark.parametrize(("choice", "era"), ERAS)
async def test_mcpkit_client_answers_the_sdk_servers_asks(
    sdk_server: SdkServer,
    choice: Any,
    era: Era,
    validating: Validating,
    frame_validator: FrameValidator,
) -> None:
    """The SDK's resolvers ask for sampling, elicitation and roots. Modern: MRTR rounds, in
    every mode. Legacy: real requests on the POST's SSE stream; with JSON responses or no
    session the SDK has no way to ask, and the call fails with an error rather than hang."""
    asked = Asked()
    with anyio.fail_after(TIMEOUT):
        async with (
            http_client(sdk_server.url) as transport,
            Client(validating(transport, "client"), era=choice, handlers=asked.handlers()) as c,
        ):
            if era is Era.LEGACY and sdk_server.mode != "sse":
                with pytest.raises(RPCError, match="back-channel"):
                    await c.call_tool("ask_user")
                assert asked.elicitation == []
                return
            combined = await c.call_tool("ask_everything", {"topic": "http"})
            sampled = await c.call_tool("ask_llm", {"topic": "sockets"})
    assert _texts(combined) == [f"{SAMPLED} | Ada | 1 root(s)"]
    assert _texts(sampled) == [f"{MODEL} said: {SAMPLED}"]
    assert [s["messages"][0]["content"]["text"] for s in asked.sampling] == ["http", "sockets"]
    assert (len(asked.elicitation), asked.roots_asked) == (1, 1)
    expected = sorted([*ASKS, "sampling/createMessage"]) if era is Era.LEGACY else []
    assert sorted(_asks_sent(frame_validator)) == expected


@pytest.mark.parametrize(("choice", "era"), ERAS)
async def test_mcpkit_client_hears_the_sdk_servers_logs_and_progress(
    sdk_server: SdkServer, choice: Any, era: Era, validating: Validating
) -> None:
    """`chatty` logs at three levels and reports three steps. On SSE responses the client
    hears them: modern at the level it asked for per request (info), legacy all of them (the
    SDK server declares no `logging`, so there is no `logging/setLevel` to send). JSON
    responses carry the response alone, and the SDK sends nothing on the GET stream."""
    told = Told()
    with anyio.fail_after(TIMEOUT):
        async with (
            http_client(sdk_server.url) as transport,
            Client(validating(transport, "client"), era=choice, handlers=told.handlers()) as c,
        ):
            if era is Era.MODERN:  # legacy: the SDK server declares no `logging` to set
                await c.set_logging_level("info")
            result = await c.call_tool("chatty", on_progress=told.on_progress)
            if sdk_server.mode != "json":
                with anyio.fail_after(LISTEN):
                    await told.wait_for(lambda: len(told.progress) == len(STEPS))
    assert _texts(result) == ["done"]
    logs = [(log.level, log.data) for log in told.logs]
    if sdk_server.mode == "json":
        assert (logs, told.progress) == ([], [])
        return
    assert told.progress == STEPS
    debug = [("debug", "debug detail")] if era is Era.LEGACY else []
    assert logs == [*debug, ("info", "working"), ("error", "something odd")]


# ---- 3. mcpkit's client -> the npm reference server (legacy only) ------------------------


async def test_npm_everything_over_http_falls_back_lists_calls_reads_and_gets(
    npm_url: str, validating: Validating
) -> None:
    """`era="auto"`: the `server/discover` probe is refused (HTTP 400, a JSON-RPC error) and
    the client starts a session with `initialize`. Then the plain features."""
    with anyio.fail_after(TIMEOUT):
        async with http_client(npm_url) as transport:
            recording = Recording(transport)
            async with Client(validating(recording, "client"), handlers=Asked().handlers()) as c:
                assert (c.era, c.server_info["name"]) == (Era.LEGACY, "mcp-servers/everything")
                assert transport.session_id
                tools = {tool.name for tool in await c.list_tools()}
                assert {"echo", "get-structured-content", "trigger-sampling-request"} <= tools
                resources = {resource.uri for resource in await c.list_resources()}
                assert "demo://resource/static/document/features.md" in resources
                prompts = {prompt.name for prompt in await c.list_prompts()}
                assert {"simple-prompt", "args-prompt"} <= prompts
                echoed = await c.call_tool("echo", {"message": "over http"})
                weather = await c.call_tool("get-structured-content", {"location": "New York"})
                text = _one_text((await c.read_resource("demo://resource/dynamic/text/2")).contents)
                got = await c.get_prompt("args-prompt", {"city": "Lyon", "state": "Rhône"})
    assert _texts(echoed) == ["Echo: over http"]
    assert weather.structured_content == {"temperature": 33, "conditions": "Cloudy", "humidity": 82}
    assert text.startswith("Resource 2: This is a plaintext resource")
    content = got.messages[0].content
    assert isinstance(content, TextContent)
    assert content.text == "What's weather in Lyon, Rhône?"
    assert "error" in recording.answer_to("server/discover")
    assert recording.answer_to("initialize")["result"]["protocolVersion"] in LEGACY_VERSIONS


async def test_npm_everything_over_http_asks_and_notifies(
    npm_url: str, validating: Validating
) -> None:
    """The server's sampling and elicitation requests reach the handlers over HTTP and their
    answers come back in the tool results; progress and log notifications are heard."""
    told = Told()
    with anyio.fail_after(TIMEOUT):
        async with (
            http_client(npm_url) as transport,
            Client(validating(transport, "client"), handlers=told.handlers()) as c,
        ):
            sampled = await c.call_tool("trigger-sampling-request", {"prompt": "a haiku"})
            elicited = await c.call_tool("trigger-elicitation-request")
            arguments = {"duration": 0.3, "steps": 3}
            await c.call_tool(
                "trigger-long-running-operation", arguments, on_progress=told.on_progress
            )
            with anyio.fail_after(LISTEN):
                await told.wait_for(lambda: len(told.progress) == 3)
            await c.set_logging_level("debug")
            await c.call_tool("toggle-simulated-logging")  # sends one message at once
            with anyio.fail_after(LISTEN):
                await told.wait_for(lambda: any(_simulated(log) for log in told.logs))
            await c.call_tool("toggle-simulated-logging")  # off again
    reply = json.loads(_texts(sampled)[0].split("\n", 1)[1])
    assert reply["content"] == {"type": "text", "text": SAMPLED}
    assert told.sampling[0]["messages"][0]["content"]["text"].endswith(": a haiku")
    assert _texts(elicited)[0] == "✅ User provided the requested information!"
    assert "- Name: Ada\n" in _texts(elicited)[1]
    assert told.progress == [(1, 3, None), (2, 3, None), (3, 3, None)]


async def test_npm_everything_by_url(npm_url: str) -> None:
    """`Client(url)`, as a user writes it: the client makes its own HTTP transport."""
    with anyio.fail_after(TIMEOUT):
        async with Client(npm_url, handlers=Asked().handlers()) as client:
            assert client.era is Era.LEGACY
            echoed = await client.call_tool("echo", {"message": "by url"})
            listed = await client.call_tool("get-roots-list")
    assert _texts(echoed) == ["Echo: by url"]
    assert f"URI: {ROOT_URI}" in _texts(listed)[0]
