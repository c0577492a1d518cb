"""The client's features against mcpkit servers in both eras: handlers answer the server's
asks transparently (real requests in legacy, MRTR rounds in modern), listeners hear what the
server reports, results are typed, cached and checked."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest

from mcpkit.client import Client, EraChoice
from mcpkit.client.features import TooManyRounds
from mcpkit.client.handlers import Handlers
from mcpkit.protocol.errors import ConnectError, RemoteProtocolError, RequestTimeout
from mcpkit.protocol.events import RequestReceived
from mcpkit.protocol.types import CallToolResult, TextContent
from mcpkit.server import Context, Server, Session
from mcpkit.testing.frames import FrameValidator
from mcpkit.testing.transports import ValidatingTransport
from mcpkit.transports.memory import memory_pair
from tests.framework_server import make_server

pytestmark = pytest.mark.anyio
ERAS = pytest.mark.parametrize("era", ["legacy", "modern"])
FRAMEWORK = Path(__file__).with_name("framework_server.py")


def handlers(**overrides: Any) -> Handlers:
    async def sample(params: dict[str, Any]) -> dict[str, Any]:
        return {"role": "assistant", "content": {"type": "text", "text": "hi!"}, "model": "m"}

    async def elicit(params: dict[str, Any]) -> dict[str, Any]:
        return {"action": "accept", "content": {"name": "Ada"}}

    base: dict[str, Any] = {
        "sampling": sample,
        "elicitation": elicit,
        "roots": ["file:///home/ada"],
    }
    return Handlers(**{**base, **overrides})


@asynccontextmanager
async def connect(era: EraChoice, server: Server | None = None, **kw: Any) -> AsyncIterator[Client]:
    async with anyio.create_task_group() as tg:
        ours, theirs = memory_pair()
        tg.start_soon((server or make_server()).serve, theirs)
        wrapped = ValidatingTransport(ours, FrameValidator(), side="client")
        async with Client(wrapped, era=era, **kw) as client:
            yield client
        tg.cancel_scope.cancel()


@ERAS
async def test_asks_are_answered_transparently(era: EraChoice) -> None:
    async with connect(era, handlers=handlers()) as client:
        assert client.capabilities == {
            "sampling": {},
            "elicitation": {"form": {}},
            "roots": {"listChanged": True},
        }
        assert (await client.call_tool("greet")).content[0].text == "Hello, Ada!"  # type: ignore[union-attr]
        two = await client.call_tool("two_questions")
        assert two.content[0].text == "Ada / hi! / 1 roots"  # type: ignore[union-attr]


@ERAS
async def test_elicitation_defaults_are_applied(era: EraChoice) -> None:
    server = Server("defaults")
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer", "default": 30}},
    }

    @server.tool()
    async def ask(ctx: Context) -> dict[str, Any]:
        answer = await ctx.elicit("Who?", schema)
        return dict(answer.content or {})

    async def partial(params: dict[str, Any]) -> dict[str, Any]:
        return {"action": "accept", "content": {"name": "Ada"}}

    async with connect(era, server, handlers=Handlers(elicitation=partial)) as client:
        result = await client.call_tool("ask")
        assert result.structured_content == {"name": "Ada", "age": 30}


async def test_too_many_rounds_is_a_clear_error() -> None:
    server = Server("pushy")

    @server.tool()
    async def endless(ctx: Context) -> str:
        ctx.state["n"] = ctx.state.get("n", 0) + 1
        await ctx.elicit(
            "again?", {"type": "object", "properties": {}}, key=f"ask-{ctx.state['n']}"
        )
        return "unreachable"

    async with connect("modern", server, handlers=handlers()) as client:
        client.max_rounds = 3
        with pytest.raises(TooManyRounds, match="3 rounds"):
            await client.call_tool("endless")


@ERAS
async def test_listeners_hear_logs_changes_and_updates(era: EraChoice) -> None:
    server = make_server()
    logs: list[str] = []
    kinds: list[str] = []
    uris: list[str] = []
    heard, prompts_changed = anyio.Event(), anyio.Event()

    def on_change(kind: str) -> None:
        kinds.append(kind)
        if kind == "prompts":
            prompts_changed.set()

    async def on_update(uri: str) -> None:
        uris.append(uri)
        heard.set()

    hooks = handlers(
        on_log=lambda p: logs.append(p.level),
        on_list_changed=on_change,
        on_resource_updated=on_update,
    )
    async with connect(era, server, handlers=hooks) as client:
        await client.set_logging_level("error")
        await client.call_tool("chatty")
        assert logs == ["error"]
        if era == "legacy":
            await client.subscribe_resource("test://static")
            server.notify_resource_updated("test://static")
            server.remove_prompt("review")
            with anyio.fail_after(5):
                await heard.wait()
                await prompts_changed.wait()
            assert uris == ["test://static"]


@ERAS
async def test_pages_iterators_and_lists(era: EraChoice) -> None:
    async with connect(era, make_server(page_size=2)) as client:
        page = await client.list_tools_page()
        assert len(page.tools) == 2 and isinstance(page.next_cursor, str)
        names = [tool.name async for tool in client.iter_tools()]
        assert names == [tool.name for tool in await client.list_tools()]
        assert len(names) > 2
        assert [r.uri for r in await client.list_resources()] == ["test://static", "test://binary"]
        assert len(await client.list_resource_templates()) == 2
        assert {p.name for p in await client.list_prompts()} == {"review", "conversation"}
        prompt = await client.get_prompt("review", {"code": "x"})
        assert prompt.messages[0].role == "user"
        read = await client.read_resource("test://items/3")
        assert msgspec.json.decode(read.contents[0]["text"]) == {"id": 3, "double": 6}
        done = await client.complete({"type": "ref/prompt", "name": "review"}, "language", "g")
        assert done.completion.values == ["go"]


async def test_modern_results_are_cached_while_fresh() -> None:
    server = Server(
        "cached", cache={"tools/list": __import__("mcpkit.server").server.CachePolicy(60_000)}
    )
    calls = {"n": 0}
    original = server._dispatch

    async def counting(session: Session, request: RequestReceived) -> Any:
        if request.method == "tools/list":
            calls["n"] += 1
        return await original(session, request)

    server._dispatch = counting  # type: ignore[method-assign]

    @server.tool()
    def one() -> str:
        return "1"

    async with connect("modern", server) as client:
        await client.list_tools()
        await client.list_tools()
        assert calls["n"] == 1  # the second came from the cache
        server.add_tool(lambda: "2", name="two")  # list_changed would invalidate for listeners
        client.cache.invalidate("tools")
        assert [t.name for t in await client.list_tools()] == ["one", "two"]
        assert calls["n"] == 2


@ERAS
async def test_structured_content_is_checked_against_the_output_schema(era: EraChoice) -> None:
    server = Server("liar")

    @server.tool()
    def count() -> int:
        return 1

    @server.method("tools/call")
    async def lie(session: Session, request: RequestReceived) -> CallToolResult:
        return CallToolResult(
            content=[TextContent(text="x")], structured_content={"result": "many"}
        )

    async with connect(era, server) as client:
        await client.list_tools()
        with pytest.raises(RemoteProtocolError, match="outputSchema"):
            await client.call_tool("count")


async def test_tools_with_invalid_header_annotations_are_dropped() -> None:
    server = Server("headers")

    @server.tool()
    def fine(x: str) -> str:
        return x

    @server.method("tools/list")
    async def listing(session: Session, request: RequestReceived) -> dict[str, Any]:
        bad = {"type": "object", "properties": {"n": {"type": "number", "x-mcp-header": "N"}}}
        tools = [
            msgspec.to_builtins(server.tools["fine"].tool),
            {"name": "bad", "inputSchema": bad},
        ]
        return {"tools": tools}

    async with connect("modern", server) as client:
        assert [t.name for t in await client.list_tools()] == ["fine"]


@ERAS
async def test_listen_yields_change_events(era: EraChoice) -> None:
    server = make_server()
    async with connect(era, server) as client:
        async with client.listen(tools=True, uris=["test://static"]) as subscription:
            if era == "modern":
                assert subscription.honoured == {
                    "toolsListChanged": True,
                    "resourceSubscriptions": ["test://static"],
                }
            server.remove_prompt("review")  # not asked for: not delivered
            server.remove_tool("add")
            server.notify_resource_updated("test://static")
            events = []
            with anyio.fail_after(5):
                async for event in subscription:
                    events.append(event)
                    if len(events) == 2:
                        break
        assert [(e.kind, e.uri) for e in events] == [("tools", None), ("resource", "test://static")]
        await client.ping()  # the connection outlives the subscription


@pytest.mark.parametrize("target", ["memory", "stdio"])
async def test_no_exception_group_reaches_the_caller(target: str) -> None:
    """An error in the caller's block, or from the server, comes out as itself."""
    server_target: Any = make_server() if target == "memory" else [sys.executable, str(FRAMEWORK)]
    with pytest.raises(ValueError, match="the caller's own"):
        async with Client(server_target):
            raise ValueError("the caller's own error")
    async with Client(server_target) as client:
        with pytest.raises(RequestTimeout):
            await client.call_tool("slow", {"seconds": 5}, timeout=0.1)
    with pytest.raises(ConnectError):
        async with Client([sys.executable, "-c", "raise SystemExit(4)"]):
            pass
