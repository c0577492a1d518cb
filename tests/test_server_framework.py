"""The server framework end to end: every feature, both eras, memory and stdio, all frames
schema-checked. The same handler code serves both eras; the parametrization proves it."""

from __future__ import annotations

import math
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import anyio
import msgspec
import pytest

from mcpkit.client import Client, EraChoice
from mcpkit.protocol.errors import (
    InvalidParams,
    MissingRequiredClientCapability,
    RequestTimeout,
    ResourceNotFound,
    RPCError,
)
from mcpkit.protocol.types import CallToolResult, InputRequiredResult
from mcpkit.protocol.versions import Era
from mcpkit.server import CachePolicy, Header, Server
from mcpkit.testing.frames import FrameValidator
from mcpkit.testing.transports import ValidatingTransport
from mcpkit.transports.memory import memory_pair
from mcpkit.transports.stdio import stdio_client
from tests.framework_server import make_server
from tests.http_harness import HTTP_KINDS, http_transport

pytestmark = pytest.mark.anyio

SERVER_SCRIPT = Path(__file__).with_name("framework_server.py")
ALL_CAPS: dict[str, Any] = {"elicitation": {}, "sampling": {}, "roots": {}}


async def _elicit(params: Any) -> dict[str, Any]:
    return {"action": "accept", "content": {"name": "Ada"}}


async def _sample(params: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": {"type": "text", "text": "hi!"}, "model": "test-llm"}


async def _roots(params: Any) -> dict[str, Any]:
    return {"roots": [{"uri": "file:///home/ada", "name": "home"}]}


ANSWERS = {"elicitation/create": _elicit, "sampling/createMessage": _sample, "roots/list": _roots}


@asynccontextmanager
async def connect(
    era: EraChoice,
    transport: str = "memory",
    capabilities: dict[str, Any] | None = None,
    on_notification: Any = None,
    server: Server | None = None,
    **kw: Any,
) -> AsyncIterator[Client]:
    caps = ALL_CAPS if capabilities is None else capabilities
    client: Client
    async with AsyncExitStack() as stack:
        if transport == "memory":
            ours, theirs = memory_pair()
            tg = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(tg.cancel_scope.cancel)
            tg.start_soon((server or make_server(**kw)).serve, theirs)
            inner: Any = ours
        elif transport in HTTP_KINDS:  # real uvicorn
            opened = http_transport(
                server or make_server(**kw), transport, lambda tool: client.param_headers(tool)
            )
            inner = await stack.enter_async_context(opened)
        else:
            spawn = stdio_client(sys.executable, [str(SERVER_SCRIPT)])
            inner = await stack.enter_async_context(spawn)
        wrapped = ValidatingTransport(inner, FrameValidator(), side="client")
        async with Client(
            wrapped, era=era, capabilities=caps, handlers=ANSWERS, on_notification=on_notification
        ) as client:
            yield client


async def call(client: Client, name: str, arguments: dict[str, Any] | None = None) -> Any:
    """tools/call, answering MRTR rounds like a client would (the client does this itself
    once the client issue lands)."""
    params: dict[str, Any] = {"name": name, "arguments": arguments or {}}
    for _ in range(5):
        result = await client.request("tools/call", params)
        if not isinstance(result, InputRequiredResult):
            return result
        responses = {}
        for key, ask in (result.input_requests or {}).items():
            wire = msgspec.to_builtins(ask)
            responses[key] = await ANSWERS[wire["method"]](wire.get("params"))
        params = {**params, "inputResponses": responses}
        if result.request_state is not msgspec.UNSET:
            params["requestState"] = result.request_state
    raise AssertionError("too many rounds")


IN_PROCESS = ("memory", "http-sse", "http-json")  # http-*: real uvicorn, SSE or JSON answers
OLD_SSE = [("legacy", "sse-legacy")]  # the 2024-11-05 HTTP+SSE transport: legacy era only
ERAS = pytest.mark.parametrize(
    ("era", "transport"), [(e, t) for e in ("legacy", "modern") for t in IN_PROCESS] + OLD_SSE
)
BOTH = pytest.mark.parametrize(
    ("era", "transport"),
    [(e, t) for e in ("legacy", "modern") for t in (*IN_PROCESS, "stdio")] + OLD_SSE,
)


@BOTH
async def test_tools_from_type_hints(era: EraChoice, transport: str) -> None:
    async with connect(era, transport) as client:
        assert client.era is Era(era)
        tools = {t.name: t for t in await client.list_tools()}
        forecast = tools["forecast"]
        assert forecast.description == "Forecast the weather for a city."
        assert forecast.input_schema["required"] == ["city"]
        assert forecast.input_schema["properties"]["city"]["description"] == "Where"
        assert forecast.output_schema is not msgspec.UNSET
        assert forecast.annotations.read_only_hint is True  # type: ignore[union-attr]
        result: CallToolResult = await client.call_tool("forecast", {"city": "Oslo"})
        assert result.structured_content == {"city": "Oslo", "temperature": 21.5, "unit": "celsius"}
        assert (await client.call_tool("add", {"a": 2, "b": 3})).structured_content == {"result": 5}
        mid = await client.call_tool("midpoint", {"p": {"x": 0, "y": 0}, "q": {"x": 4, "y": 2}})
        assert mid.structured_content == {"x": 2, "y": 1}


@ERAS
async def test_tool_errors_are_results_the_model_can_read(era: EraChoice, transport: str) -> None:
    async with connect(era, transport) as client:
        bad = await client.call_tool("add", {"a": "two", "b": 3})
        assert bad.is_error is True
        assert "a" in bad.content[0].text  # type: ignore[union-attr]
        failed = await client.call_tool("fail", {"reason": "test"})
        assert failed.is_error is True
        assert failed.content[0].text == "failed on purpose: test"  # type: ignore[union-attr]
        with pytest.raises(InvalidParams, match="unknown tool"):
            await client.call_tool("nope")
        assert (await client.call_tool("lifespan_value")).content[0].text == "connected"  # type: ignore[union-attr]


@BOTH
async def test_resources_and_templates(era: EraChoice, transport: str) -> None:
    async with connect(era, transport) as client:
        listed = await client.request("resources/list")
        assert [r.uri for r in listed.resources] == ["test://static", "test://binary"]
        templates = await client.request("resources/templates/list")
        assert {t.uri_template for t in templates.resource_templates} == {
            "test://items/{item_id}",
            "file:///srv/{+path}",
        }
        text = await client.request("resources/read", {"uri": "test://static"})
        assert text.contents[0]["text"] == "static content"
        blob = await client.request("resources/read", {"uri": "test://binary"})
        assert blob.contents[0]["blob"] == "iVBORw0KGgo="
        item = await client.request("resources/read", {"uri": "test://items/21"})
        assert msgspec.json.decode(item.contents[0]["text"]) == {"id": 21, "double": 42}
        nested = await client.request("resources/read", {"uri": "file:///srv/a/b.txt"})
        assert nested.contents[0]["text"] == "contents of a/b.txt"


@ERAS
async def test_resource_not_found_per_era(era: EraChoice, transport: str) -> None:
    expected = InvalidParams if era == "modern" else ResourceNotFound
    async with connect(era, transport) as client:
        for uri in ("test://nothing", "file:///srv/../etc/passwd", "file:///srv/%2e%2e/etc/passwd"):
            with pytest.raises(expected) as info:
                await client.request("resources/read", {"uri": uri})
            assert info.value.data == {"uri": uri}


@ERAS
async def test_prompts_and_completion(era: EraChoice, transport: str) -> None:
    async with connect(era, transport) as client:
        listed = await client.request("prompts/list")
        review = next(p for p in listed.prompts if p.name == "review")
        assert [(a.name, a.required) for a in review.arguments] == [
            ("code", True),
            ("language", False),
        ]
        got = await client.request(
            "prompts/get", {"name": "review", "arguments": {"code": "x = 1"}}
        )
        assert got.messages[0].role == "user"
        assert got.messages[0].content.text == "Please review this python code:\nx = 1"
        convo = await client.request(
            "prompts/get", {"name": "conversation", "arguments": {"topic": "MCP"}}
        )
        assert [m.role for m in convo.messages] == ["user", "assistant"]
        with pytest.raises(InvalidParams, match="code"):
            await client.request("prompts/get", {"name": "review", "arguments": {}})
        done = await client.request(
            "completion/complete",
            {
                "ref": {"type": "ref/prompt", "name": "review"},
                "argument": {"name": "language", "value": "r"},
            },
        )
        assert done.completion.values == ["rust"]
        many = await client.request(
            "completion/complete",
            {
                "ref": {"type": "ref/resource", "uri": "test://items/{item_id}"},
                "argument": {"name": "item_id", "value": ""},
            },
        )
        assert len(many.completion.values) == 100
        assert many.completion.has_more is True


async def test_logging_and_progress_modern_per_request() -> None:
    seen: list[tuple[str, Any]] = []

    async def note(method: str, params: Any) -> None:
        seen.append((method, params))

    async with connect("modern", on_notification=note) as client:
        await client.request("tools/call", {"name": "chatty"})
        assert not [m for m, _ in seen if m == "notifications/message"]  # no logLevel: no logs
        progress: list[float] = []
        await client.request(
            "tools/call",
            {"name": "chatty"},
            meta={"io.modelcontextprotocol/logLevel": "info"},
            on_progress=lambda event: progress.append(event.progress),
        )
        levels = [p.level for m, p in seen if m == "notifications/message"]
        assert levels == ["info", "error"]
        assert progress == [1, 2, 3]


async def test_logging_legacy_honours_set_level() -> None:
    seen: list[str] = []

    async def note(method: str, params: Any) -> None:
        if method == "notifications/message":
            seen.append(params.level)

    async with connect("legacy", on_notification=note) as client:
        await client.call_tool("chatty")
        await client.request("logging/setLevel", {"level": "error"})
        await client.call_tool("chatty")
    assert seen == ["info", "error", "error"]


@ERAS
async def test_asks_in_both_eras(era: EraChoice, transport: str) -> None:
    async with connect(era, transport) as client:
        assert (await call(client, "greet")).content[0].text == "Hello, Ada!"
        answer = await call(client, "two_questions")
        assert answer.content[0].text == "Ada / hi! / 1 roots"


async def test_modern_asks_are_input_required_results_with_sealed_state() -> None:
    async with connect("modern") as client:
        first = await client.request("tools/call", {"name": "two_questions"})
        assert isinstance(first, InputRequiredResult)
        assert set(first.input_requests or {}) == {"name", "llm"}  # both asked in one round
        state = first.request_state
        assert isinstance(state, str)
        tampered = state[:-2] + ("A" if state[-2] != "A" else "B") + state[-1]
        with pytest.raises(InvalidParams):
            await client.request(
                "tools/call",
                {"name": "two_questions", "requestState": tampered, "inputResponses": {}},
            )
        with pytest.raises(InvalidParams):  # bound to the tool it was made for
            await client.request(
                "tools/call", {"name": "greet", "requestState": state, "inputResponses": {}}
            )


async def test_undeclared_capability_is_refused_per_era() -> None:
    async with connect("modern", capabilities={}) as client:
        with pytest.raises(MissingRequiredClientCapability) as info:
            await client.request("tools/call", {"name": "greet"})
        assert info.value.data == {"requiredCapabilities": {"elicitation": {}}}
    async with connect("legacy", capabilities={}) as client:
        result = await client.call_tool("greet")
        assert result.is_error is True
        assert "elicitation" in result.content[0].text  # type: ignore[union-attr]


@ERAS
async def test_pagination(era: EraChoice, transport: str) -> None:
    async with connect(era, transport, page_size=3) as client:
        first = await client.request("tools/list")
        assert len(first.tools) == 3 and isinstance(first.next_cursor, str)
        assert len(await client.list_tools()) == len(make_server().tools)
        with pytest.raises(InvalidParams, match="cursor"):
            await client.request("tools/list", {"cursor": "not-a-cursor"})


async def test_caching_hints_modern_only() -> None:
    async with connect("modern") as client:
        listed = await client.request("tools/list")
        assert (listed.ttl_ms, listed.cache_scope) == (0, "public")
        assert listed.meta["io.modelcontextprotocol/serverInfo"]["name"] == "framework"
        read = await client.request("resources/read", {"uri": "test://static"})
        assert read.cache_scope == "public"
    async with connect("legacy") as client:
        listed = await client.request("tools/list")
        assert listed.ttl_ms is msgspec.UNSET


async def test_runtime_registration_notifies_both_eras() -> None:
    server = make_server()
    changed = anyio.Event()

    async def note(method: str, params: Any) -> None:
        if method == "notifications/tools/list_changed":
            changed.set()

    async with anyio.create_task_group() as tg:
        ours, theirs = memory_pair()
        tg.start_soon(server.serve, theirs)
        async with Client(ours, era="legacy", on_notification=note) as client:
            with anyio.fail_after(5):
                server.add_tool(lambda: "new", name="late")
                await changed.wait()
            assert "late" in [t.name for t in await client.list_tools()]
        tg.cancel_scope.cancel()


async def test_subscriptions_listen_modern() -> None:
    server = make_server()
    heard: list[tuple[str, Any]] = []
    got_ack = anyio.Event()
    got_change = anyio.Event()

    async def note(method: str, params: Any) -> None:
        heard.append((method, params))
        if method == "notifications/subscriptions/acknowledged":
            got_ack.set()
        if method == "notifications/tools/list_changed":
            got_change.set()

    async with anyio.create_task_group() as tg:
        ours, theirs = memory_pair()
        tg.start_soon(server.serve, theirs)
        async with Client(ours, era="modern", on_notification=note) as client:

            async def listen() -> None:
                await client.request(
                    "subscriptions/listen",
                    {"notifications": {"toolsListChanged": True, "promptsListChanged": True}},
                    timeout=math.inf,
                    max_timeout=math.inf,
                )

            async with anyio.create_task_group() as listening:
                listening.start_soon(listen)
                with anyio.fail_after(5):
                    await got_ack.wait()
                    server.remove_tool("add")
                    await got_change.wait()
                listening.cancel_scope.cancel()  # ends the subscription (notifications/cancelled)
            ack_method, ack = heard[0]
            assert ack_method == "notifications/subscriptions/acknowledged"
            assert ack.notifications.tools_list_changed is True
            sub_id = ack.meta["io.modelcontextprotocol/subscriptionId"]
            change = next(p for m, p in heard if m == "notifications/tools/list_changed")
            assert change.meta["io.modelcontextprotocol/subscriptionId"] == sub_id
        tg.cancel_scope.cancel()


async def test_rpc_errors_from_handlers_keep_their_code() -> None:
    server = make_server()

    @server.tool()
    async def teapot() -> str:
        raise RPCError("I'm a teapot", {"why": "tea"}, code=-31000)

    async with anyio.create_task_group() as tg:
        ours, theirs = memory_pair()
        tg.start_soon(server.serve, theirs)
        async with Client(ours) as client:
            with pytest.raises(RPCError) as info:
                await client.call_tool("teapot")
            assert (info.value.code, info.value.data) == (-31000, {"why": "tea"})
        tg.cancel_scope.cancel()


def test_x_mcp_header_parameters_and_explicit_schemas() -> None:
    server = make_server()

    @server.tool()
    def route(region: Annotated[str, Header("Region")], count: int = 1) -> str:
        return region

    assert (
        server.tools["route"].tool.input_schema["properties"]["region"]["x-mcp-header"] == "Region"
    )
    with pytest.raises(ValueError, match="only allowed on string"):

        @server.tool()
        def bad(x: Annotated[float, Header("X")]) -> str:
            return ""

    with pytest.raises(ValueError, match="used twice"):
        server.add_tool(lambda a, b: "", name="dup", input_schema={
            "type": "object",
            "properties": {
                "a": {"type": "string", "x-mcp-header": "A"},
                "b": {"type": "string", "x-mcp-header": "a"},
            },
        })  # fmt: skip
    schema = {
        "type": "object",
        "$defs": {"x": {"type": "string"}},
        "properties": {"v": {"$ref": "#/$defs/x"}},
    }
    explicit = server.add_tool(lambda v="": v, name="explicit", input_schema=schema)
    assert explicit.tool.input_schema == schema


@ERAS
async def test_cancellation_stops_the_handler(era: EraChoice, transport: str) -> None:
    server = make_server()
    started, stopped = anyio.Event(), anyio.Event()

    @server.tool()
    async def forever() -> str:
        started.set()
        try:
            await anyio.sleep(60)
        finally:
            stopped.set()
        return "never"

    async with connect(era, transport, server=server) as client:
        with anyio.fail_after(5):
            async with anyio.create_task_group() as calls:
                calls.start_soon(client.call_tool, "forever")
                await started.wait()
                calls.cancel_scope.cancel()  # legacy: notifications/cancelled; modern HTTP: close
            await stopped.wait()
        await client.ping()


async def test_legacy_resource_subscriptions() -> None:
    server = make_server()
    updated = anyio.Event()
    uris: list[str] = []

    async def note(method: str, params: Any) -> None:
        if method == "notifications/resources/updated":
            uris.append(params.uri)
            updated.set()

    async with anyio.create_task_group() as tg:
        ours, theirs = memory_pair()
        tg.start_soon(server.serve, theirs)
        async with Client(ours, era="legacy", on_notification=note) as client:
            await client.request("resources/subscribe", {"uri": "test://static"})
            server.notify_resource_updated("test://binary")  # not subscribed: not sent
            server.notify_resource_updated("test://static")
            with anyio.fail_after(5):
                await updated.wait()
            assert uris == ["test://static"]
            await client.request("resources/unsubscribe", {"uri": "test://static"})
        tg.cancel_scope.cancel()


async def test_caching_hints_per_method_and_per_resource() -> None:
    server = make_server(cache={"tools/list": CachePolicy(60_000, "private")})

    @server.resource("test://hot", cache=CachePolicy(5, "public"))
    def hot() -> str:
        return "hot"

    async with anyio.create_task_group() as tg:
        ours, theirs = memory_pair()
        tg.start_soon(server.serve, theirs)
        async with Client(ours, era="modern") as client:
            tools_page = await client.request("tools/list")
            assert (tools_page.ttl_ms, tools_page.cache_scope) == (60_000, "private")
            prompts_page = await client.request("prompts/list")
            assert (prompts_page.ttl_ms, prompts_page.cache_scope) == (0, "public")
            read = await client.request("resources/read", {"uri": "test://hot"})
            assert (read.ttl_ms, read.cache_scope) == (5, "public")
        tg.cancel_scope.cancel()


@ERAS
async def test_progress_restarts_the_timeout_but_the_cap_holds(
    era: EraChoice, transport: str
) -> None:
    if transport == "http-json":
        pytest.skip("a JSON answer carries no progress notifications")
    params = {"name": "ticking", "arguments": {"ticks": 6, "interval": 0.1}}
    async with connect(era, transport) as client:
        ticks: list[float] = []
        done = await client.request(
            "tools/call", params, timeout=0.3, on_progress=lambda e: ticks.append(e.progress)
        )
        assert done.content[0].text == "ticked"
        assert ticks == [1, 2, 3, 4, 5, 6]
        with pytest.raises(RequestTimeout, match="cap"):
            await client.request(
                "tools/call", params, timeout=0.3, max_timeout=0.35, on_progress=lambda e: None
            )
        with pytest.raises(RequestTimeout, match="without an answer or progress"):
            await client.request("tools/call", params, timeout=0.05)
        await client.ping()
