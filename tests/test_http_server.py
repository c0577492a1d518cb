"""Streamable HTTP server (`mcpkit.server.http`): both eras on one endpoint, over real uvicorn.

Layer: tests. Each test starts uvicorn on 127.0.0.1 (a free port) serving `http_app` over the
framework test server and drives it with httpx, sending raw JSON-RPC; every frame sent and
received is checked against the schemas with a `FrameValidator`.
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
import uvicorn

from mcpkit.protocol.context import CLIENT_CAPABILITIES, PROTOCOL_VERSION
from mcpkit.protocol.errors import HeaderMismatch
from mcpkit.server import Server
from mcpkit.server.http import MCPHTTPApp, http_app
from mcpkit.server.http_headers import decode_value
from mcpkit.testing import FrameValidator
from tests.framework_server import make_server

pytestmark = pytest.mark.anyio

MODERN = "2026-07-28"
LEGACY = "2025-11-25"
ACCEPT_BOTH = "application/json, text/event-stream"


class Endpoint:
    """An httpx client aimed at the endpoint, validating every frame both ways."""

    def __init__(self, client: httpx.AsyncClient, app: MCPHTTPApp) -> None:
        self.client = client
        self.app = app
        self.validator = FrameValidator()

    async def post(self, message: dict[str, Any], **headers: str) -> httpx.Response:
        self.validator.check(message, "c2s")
        sent = {"accept": ACCEPT_BOTH, **{k.replace("_", "-"): v for k, v in headers.items()}}
        return await self.client.post("/mcp", content=json.dumps(message), headers=sent)

    def frames(self, response: httpx.Response) -> list[dict[str, Any]]:
        """The JSON-RPC frames of a JSON or SSE response, each validated."""
        kind = response.headers.get("content-type", "")
        if kind.startswith("text/event-stream"):
            found = [  # skipping priming events (empty data)
                json.loads(line[5:])
                for line in response.text.splitlines()
                if line[:5] == "data:" and line[5:].strip()
            ]
        else:
            found = [response.json()]
        for frame in found:
            self.validator.check(frame, "s2c")
        return found


@asynccontextmanager
async def serving(server: Server | None = None, **app_kw: Any) -> AsyncIterator[Endpoint]:
    """uvicorn on a socket that is already listening, so requests queue until it accepts
    (no waiting for `started`)."""
    app = http_app(server or make_server(), **app_kw)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        # accepted sockets inherit it; uvicorn sets it itself only on sockets it binds
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        port = sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
        web = uvicorn.Server(config)
        async with anyio.create_task_group() as tg:
            tg.start_soon(lambda: web.serve(sockets=[sock]))
            base = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=base, timeout=10) as client:
                yield Endpoint(client, app)
            web.should_exit = True


def modern(method: str, params: dict[str, Any] | None = None, rid: int = 1) -> dict[str, Any]:
    meta = {PROTOCOL_VERSION: MODERN, CLIENT_CAPABILITIES: {}}
    return {
        "jsonrpc": "2.0",
        "id": rid,
        "method": method,
        "params": {"_meta": meta, **(params or {})},
    }


def modern_headers(message: dict[str, Any]) -> dict[str, str]:
    headers = {"mcp_protocol_version": MODERN, "mcp_method": message["method"]}
    params = message["params"]
    if "name" in params or "uri" in params:
        headers["mcp_name"] = params.get("name") or params["uri"]
    return headers


async def call_tool(
    ep: Endpoint, name: str, args: dict[str, Any], **headers: str
) -> httpx.Response:
    message = modern("tools/call", {"name": name, "arguments": args})
    return await ep.post(message, **{**modern_headers(message), **headers})


# ---- modern --------------------------------------------------------------------------------


async def test_modern_tool_call_json() -> None:
    async with serving() as ep:
        response = await call_tool(ep, "add", {"a": 2, "b": 3}, accept="application/json")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        [frame] = ep.frames(response)
        assert frame["id"] == 1
        assert frame["result"]["structuredContent"] == {"result": 5}
        assert "mcp-session-id" not in response.headers


async def test_modern_progress_arrives_as_sse_events() -> None:
    async with serving() as ep:
        message = modern("tools/call", {"name": "chatty", "arguments": {}})
        message["params"]["_meta"]["progressToken"] = "p1"
        response = await ep.post(message, **modern_headers(message))
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-accel-buffering"] == "no"
        frames = ep.frames(response)
        progress = [f for f in frames if f.get("method") == "notifications/progress"]
        assert [p["params"]["progress"] for p in progress] == [1, 2, 3]
        assert frames[-1]["id"] == 1 and frames[-1]["result"]["content"][0]["text"] == "done"


async def test_modern_json_response_setting_never_streams() -> None:
    async with serving(json_response=True) as ep:
        message = modern("tools/call", {"name": "chatty", "arguments": {}})
        message["params"]["_meta"]["progressToken"] = "p1"
        response = await ep.post(message, **modern_headers(message))
        assert response.headers["content-type"] == "application/json"
        assert ep.frames(response)[0]["result"]["content"][0]["text"] == "done"


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("mcp_name", "forecast"),
        ("mcp_method", "TOOLS/CALL"),
        ("mcp_protocol_version", "2025-11-25"),
        ("mcp_name", "=?base64?!!!?="),
    ],
)
async def test_modern_header_mismatch_is_400(header: str, value: str) -> None:
    async with serving() as ep:
        response = await call_tool(ep, "add", {"a": 1, "b": 1}, **{header: value})
        assert response.status_code == 400
        assert ep.frames(response)[0]["error"]["code"] == -32020


async def test_modern_headers_tolerate_case_whitespace_and_base64() -> None:
    async with serving() as ep:
        message = modern("tools/call", {"name": "add", "arguments": {"a": 1, "b": 1}})
        headers = {"MCP-PROTOCOL-VERSION": MODERN, "Mcp-Method": "tools/call"}
        headers["mcp-name"] = "=?base64?YWRk?="  # "add"
        ep.validator.check(message, "c2s")
        response = await ep.client.post("/mcp", json=message, headers=headers)
        assert response.status_code == 200, response.text


async def test_modern_missing_header_is_400() -> None:
    async with serving() as ep:
        message = modern("tools/list")
        response = await ep.post(message, mcp_protocol_version=MODERN)
        assert response.status_code == 400
        assert ep.frames(response)[0]["error"]["code"] == -32020


async def test_modern_missing_meta_is_400_invalid_params() -> None:
    async with serving() as ep:
        message = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
        ep.validator.skip(message, "c2s", note="no _meta on purpose")
        headers = {"mcp-protocol-version": MODERN, "mcp-method": "tools/list"}
        response = await ep.client.post("/mcp", json=message, headers=headers)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == -32602


async def test_modern_unsupported_version_is_400() -> None:
    async with serving() as ep:
        message = modern("tools/list")
        message["params"]["_meta"][PROTOCOL_VERSION] = "2099-01-01"
        ep.validator.skip(message, "c2s", note="unknown version on purpose")
        headers = {"mcp-protocol-version": "2099-01-01", "mcp-method": "tools/list"}
        response = await ep.client.post("/mcp", json=message, headers=headers)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == -32022 and error["data"]["requested"] == "2099-01-01"


async def test_modern_unknown_method_is_404() -> None:
    async with serving() as ep:
        message = modern("no/such/method")
        ep.validator.skip(message, "c2s", note="unknown method on purpose")
        headers = {"mcp-protocol-version": MODERN, "mcp-method": "no/such/method"}
        response = await ep.client.post("/mcp", json=message, headers=headers)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == -32601


async def test_get_and_delete_without_session_are_405() -> None:
    async with serving() as ep:
        assert (
            await ep.client.get("/mcp", headers={"accept": "text/event-stream"})
        ).status_code == 405
        assert (await ep.client.delete("/mcp")).status_code == 405


async def test_modern_disconnect_cancels_the_handler() -> None:
    server = make_server()
    cancelled = anyio.Event()

    @server.tool()
    async def wait_forever() -> str:
        """Waits until cancelled."""
        try:
            await anyio.sleep_forever()
        finally:
            cancelled.set()
        return "unreachable"

    async with serving(server) as ep:
        message = modern("tools/call", {"name": "wait_forever", "arguments": {}})
        ep.validator.check(message, "c2s")
        headers = {k.replace("_", "-"): v for k, v in modern_headers(message).items()}
        with pytest.raises(httpx.ReadTimeout):
            await ep.client.post("/mcp", json=message, headers=headers, timeout=0.3)
        with anyio.fail_after(5):
            await cancelled.wait()
        response = await call_tool(ep, "add", {"a": 1, "b": 2})  # still healthy
        assert response.status_code == 200


async def test_modern_notification_is_202() -> None:
    async with serving() as ep:
        note = {"jsonrpc": "2.0", "method": "notifications/roots/list_changed"}
        ep.validator.skip(note, "c2s", note="not a modern client notification")
        response = await ep.client.post("/mcp", json=note, headers={"mcp-protocol-version": MODERN})
        assert response.status_code == 202 and response.content == b""


# ---- legacy sessions -----------------------------------------------------------------------


def initialize(rid: int = 0, capabilities: dict[str, Any] | None = None) -> dict[str, Any]:
    params = {
        "protocolVersion": LEGACY,
        "capabilities": capabilities or {},
        "clientInfo": {"name": "test", "version": "1"},
    }
    return {"jsonrpc": "2.0", "id": rid, "method": "initialize", "params": params}


async def open_session(ep: Endpoint, capabilities: dict[str, Any] | None = None) -> str:
    response = await ep.post(initialize(capabilities=capabilities))
    assert response.status_code == 200, response.text
    assert ep.frames(response)[0]["result"]["protocolVersion"] == LEGACY
    session_id = response.headers["mcp-session-id"]
    note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    accepted = await ep.post(note, mcp_session_id=session_id, mcp_protocol_version=LEGACY)
    assert accepted.status_code == 202
    return session_id


def legacy(method: str, rid: int, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "method": method, **({"params": params} if params else {})}


async def test_legacy_session_lifecycle() -> None:
    async with serving() as ep:
        session_id = await open_session(ep)
        assert len(session_id) >= 32 and all(0x21 <= ord(c) <= 0x7E for c in session_id)
        headers = {"mcp_session_id": session_id, "mcp_protocol_version": LEGACY}
        response = await ep.post(legacy("tools/list", 1), **headers)
        assert response.status_code == 200
        tools = {tool["name"] for tool in ep.frames(response)[0]["result"]["tools"]}
        assert {"add", "greet", "chatty"} <= tools
        missing = await ep.post(legacy("tools/list", 2), mcp_protocol_version=LEGACY)
        assert missing.status_code == 400
        unknown = await ep.post(legacy("tools/list", 3), mcp_session_id="nope")
        assert unknown.status_code == 404
        wrong = await ep.post(
            legacy("tools/list", 4), mcp_session_id=session_id, mcp_protocol_version="2025-06-18"
        )
        assert wrong.status_code == 400
        # no MCP-Protocol-Version: assumed 2025-03-26 and served (spec: compatibility)
        assert (await ep.post(legacy("ping", 5), mcp_session_id=session_id)).status_code == 200
        assert (
            await ep.client.delete("/mcp", headers={"mcp-session-id": session_id})
        ).status_code == 200
        assert len(ep.app.sessions) == 0
        gone = await ep.post(legacy("tools/list", 6), **headers)
        assert gone.status_code == 404


async def test_legacy_json_response_mode() -> None:
    async with serving(json_response=True) as ep:
        session_id = await open_session(ep)
        response = await ep.post(
            legacy("ping", 1), mcp_session_id=session_id, mcp_protocol_version=LEGACY
        )
        assert response.headers["content-type"] == "application/json"
        assert ep.frames(response)[0] == {"jsonrpc": "2.0", "id": 1, "result": {}}


@pytest.mark.parametrize("json_response", [True, False])
async def test_legacy_cancelled_request_still_ends_its_post(json_response: bool) -> None:
    """A request the client cancels gets no answer (spec: cancellation), but its POST must
    still end — 202 with no body in JSON mode, the end of its SSE stream otherwise — or the
    client's connection and the server's task would wait until the session ends."""
    server = make_server()
    started = anyio.Event()

    @server.tool()
    async def wait_forever() -> str:
        started.set()
        await anyio.sleep_forever()
        return "never"

    async with serving(server, json_response=json_response) as ep:
        session_id = await open_session(ep)
        headers = {"mcp_session_id": session_id, "mcp_protocol_version": LEGACY}
        call = legacy("tools/call", 9, {"name": "wait_forever", "arguments": {}})
        answered: list[httpx.Response] = []
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:

                async def post() -> None:
                    answered.append(await ep.post(call, **headers))

                tg.start_soon(post)
                await started.wait()
                cancel = {
                    "jsonrpc": "2.0",
                    "method": "notifications/cancelled",
                    "params": {"requestId": 9, "reason": "no longer needed"},
                }
                assert (await ep.post(cancel, **headers)).status_code == 202
        (response,) = answered
        if json_response:
            assert response.status_code == 202 and response.content == b""
        else:
            assert response.status_code == 200 and ep.frames(response) == []
        assert response.headers["mcp-session-id"] == session_id
        assert not ep.app.sessions.sessions[session_id].busy


async def test_legacy_elicitation_round_trip_on_the_post_stream() -> None:
    async with serving() as ep:
        session_id = await open_session(ep, {"elicitation": {}})
        headers = {
            "mcp-session-id": session_id,
            "mcp-protocol-version": LEGACY,
            "accept": ACCEPT_BOTH,
        }
        call = legacy("tools/call", 7, {"name": "greet", "arguments": {}})
        ep.validator.check(call, "c2s")
        async with ep.client.stream("POST", "/mcp", json=call, headers=headers) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.aiter_lines()
            ask = await next_frame(lines)
            ep.validator.check(ask, "s2c")
            assert ask["method"] == "elicitation/create"
            answer = {
                "jsonrpc": "2.0",
                "id": ask["id"],
                "result": {"action": "accept", "content": {"name": "Ada"}},
            }
            ep.validator.check(answer, "c2s")
            posted = await ep.client.post("/mcp", json=answer, headers=headers)
            assert posted.status_code == 202
            final = await next_frame(lines)
            ep.validator.check(final, "s2c")
        assert final["id"] == 7
        assert final["result"]["content"][0]["text"] == "Hello, Ada!"


async def next_frame(lines: Any) -> dict[str, Any]:
    with anyio.fail_after(5):
        async for line in lines:
            if line.startswith("data:") and line[5:].strip():
                frame: dict[str, Any] = json.loads(line[5:])
                return frame
    raise AssertionError("stream ended")


async def test_legacy_progress_goes_on_the_post_stream() -> None:
    async with serving() as ep:
        session_id = await open_session(ep)
        call = legacy(
            "tools/call", 3, {"name": "chatty", "arguments": {}, "_meta": {"progressToken": 9}}
        )
        response = await ep.post(call, mcp_session_id=session_id, mcp_protocol_version=LEGACY)
        assert response.headers["content-type"].startswith("text/event-stream")
        frames = ep.frames(response)
        assert [
            f["params"]["progress"] for f in frames if f.get("method") == "notifications/progress"
        ] == [1, 2, 3]
        assert frames[-1]["id"] == 3


async def test_legacy_get_stream_carries_list_changed() -> None:
    async with serving() as ep:
        session_id = await open_session(ep)
        headers = {
            "mcp-session-id": session_id,
            "mcp-protocol-version": LEGACY,
            "accept": "text/event-stream",
        }
        async with ep.client.stream("GET", "/mcp", headers=headers) as stream:
            assert stream.status_code == 200
            ep.app.server.add_tool(lambda: "x", name="late_tool")
            frame = await next_frame(stream.aiter_lines())
            ep.validator.check(frame, "s2c")
            assert frame["method"] == "notifications/tools/list_changed"


async def test_sessions_over_the_cap_get_503() -> None:
    async with serving(max_sessions=2) as ep:
        await open_session(ep)
        await open_session(ep)
        response = await ep.post(initialize())
        assert response.status_code == 503
        assert response.json()["error"]["code"] == -32603


async def test_idle_sessions_are_reclaimed() -> None:
    now = [0.0]
    async with serving(session_ttl=60) as ep:
        ep.app.sessions.clock = lambda: now[0]

        limiter = anyio.CapacityLimiter(4)
        headers = {"accept": ACCEPT_BOTH}

        async def one() -> None:
            async with limiter:  # (frames as in test_legacy_session_lifecycle: not re-validated)
                response = await ep.client.post("/mcp", json=initialize(), headers=headers)
            assert response.status_code == 200

        async with anyio.create_task_group() as tg:
            for _ in range(1000):
                tg.start_soon(one)
        sessions = list(ep.app.sessions.sessions.values())
        assert len(sessions) == 1000
        assert (await ep.post(initialize())).status_code == 503
        now[0] = 30.0
        assert await ep.app.sessions.reap() == 0  # not idle long enough
        now[0] = 61.0
        assert (await ep.post(initialize())).status_code == 200  # at the cap: reaps first
        assert len(ep.app.sessions) == 1
        with anyio.fail_after(5):
            for session in sessions:
                await session.finished.wait()  # each session's server task has ended


# ---- security and limits -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"origin": "https://evil.example"}, 403),
        ({"origin": "http://localhost:3000"}, 200),
        ({"host": "evil.example"}, 421),
        ({"host": "localhost:9999"}, 200),
        ({"host": "[::1]"}, 200),
    ],
)
async def test_origin_and_host_checks(headers: dict[str, str], status: int) -> None:
    async with serving() as ep:
        message = modern("tools/list")
        all_headers = {k.replace("_", "-"): v for k, v in modern_headers(message).items()} | headers
        response = await ep.client.post("/mcp", json=message, headers=all_headers)
        assert response.status_code == status


async def test_host_and_origin_verdicts_hold_request_after_request() -> None:
    """The app remembers each (Host, Origin, bound address) verdict: the same app still
    tells a good pair from a bad one every time, and a client inventing Hosts gets each
    refused without growing the memo past its cap."""
    async with serving() as ep:
        message = modern("tools/list")
        base = {k.replace("_", "-"): v for k, v in modern_headers(message).items()}
        cases = [
            ({}, 200),
            ({"origin": "https://evil.example"}, 403),
            ({"host": "evil.example"}, 421),
            ({"origin": "http://localhost:3000"}, 200),
        ]
        for _ in range(2):
            for extra, status in cases:
                response = await ep.client.post("/mcp", json=message, headers=base | extra)
                assert response.status_code == status, extra
        for n in range(300):
            invented = base | {"host": f"rebind-{n}.example"}
            response = await ep.client.post("/mcp", json=message, headers=invented)
            assert response.status_code == 421
        assert len(ep.app._verdicts) <= 256
        assert (await ep.client.post("/mcp", json=message, headers=base)).status_code == 200


async def test_allowed_origins_setting() -> None:
    async with serving(allowed_origins=["https://app.example"]) as ep:
        message = modern("tools/list")
        base = {k.replace("_", "-"): v for k, v in modern_headers(message).items()}
        ok = await ep.client.post(
            "/mcp", json=message, headers=base | {"origin": "https://app.example"}
        )
        assert ok.status_code == 200
        bad = await ep.client.post(
            "/mcp", json=message, headers=base | {"origin": "http://localhost"}
        )
        assert bad.status_code == 403


async def test_body_limit_and_malformed_json() -> None:
    async with serving(max_body=1000) as ep:
        big = await ep.client.post("/mcp", content=b"{" + b" " * 2000 + b"}")
        assert big.status_code == 413
        bad = await ep.client.post("/mcp", content=b"{not json")
        assert bad.status_code == 400
        assert bad.json()["error"]["code"] == -32700
        batch = await ep.client.post("/mcp", content=b'[{"jsonrpc": "2.0", "method": "ping"}]')
        assert batch.status_code == 400
        assert batch.json()["error"]["code"] == -32600 and "batch" in batch.text


async def test_a_streamed_body_is_read_whole_and_held_to_the_limit() -> None:
    """A chunked body (no Content-Length) arrives in several ASGI messages: it is joined, and
    one that grows past `max_body` is refused with 413 as it streams in."""

    def chunks(body: bytes, size: int) -> Any:
        async def stream() -> Any:
            for start in range(0, len(body), size):
                yield body[start : start + size]

        return stream()

    async with serving(max_body=1000) as ep:
        body = json.dumps(initialize()).encode()
        headers = {"accept": ACCEPT_BOTH, "content-type": "application/json"}
        answered = await ep.client.post("/mcp", content=chunks(body, 16), headers=headers)
        assert answered.status_code == 200
        assert answered.json()["result"]["protocolVersion"] == LEGACY
        big = b"{" + b" " * 2000 + b"}"
        refused = await ep.client.post("/mcp", content=chunks(big, 300), headers=headers)
        assert refused.status_code == 413


async def test_works_mounted_without_lifespan() -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    app = http_app(make_server())
    outer = Starlette(routes=[Mount("/api", app=app)])
    transport = httpx.ASGITransport(app=outer)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            message = modern("tools/call", {"name": "lifespan_value", "arguments": {}})
            headers = {k.replace("_", "-"): v for k, v in modern_headers(message).items()}
            response = await client.post("/api/mcp", json=message, headers=headers)
            assert response.status_code == 200, response.text
            assert response.json()["result"]["content"][0]["text"] == "connected"
    finally:
        await app.aclose()


async def test_a_client_gone_mid_body_is_not_answered() -> None:
    app = http_app(make_server())
    parts: list[dict[str, Any]] = [
        {"type": "http.request", "body": b'{"jsonrpc": "2.0", "id": 1, ', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return parts.pop(0)  # (an IndexError if the app read past the disconnect)

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/mcp",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"content-type", b"application/json")],
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 5555),
    }
    try:
        with anyio.fail_after(5):
            await app(scope, receive, send)
        assert sent == [] and parts == []  # read to the disconnect; nobody left to answer
    finally:
        await app.aclose()


def test_header_values_are_trimmed_and_decoded() -> None:
    assert decode_value("  tools/call\t") == "tools/call"
    assert decode_value("=?base64?aMOpbGxv?=") == "h\u00e9llo"
    assert decode_value("=?base64x?=") == "=?base64x?="  # not the wrapper: literal
    with pytest.raises(HeaderMismatch):
        decode_value("=?base64?not base64?=")
