"""Server and Client end to end, both eras, over memory and stdio; every frame schema-checked."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from mcpkit.client import Client, EraChoice
from mcpkit.protocol.errors import (
    BrokenError,
    ConnectError,
    LocalProtocolError,
    MethodNotFound,
    RequestTimeout,
)
from mcpkit.protocol.events import RequestReceived
from mcpkit.protocol.versions import Era
from mcpkit.server import Server, Session
from mcpkit.testing.frames import FrameValidator
from mcpkit.testing.transports import ValidatingTransport
from mcpkit.transports.memory import memory_pair
from mcpkit.transports.stdio import stdio_client

pytestmark = pytest.mark.anyio

EXAMPLES = Path(__file__).parent.parent / "examples"


def make_server() -> Server:
    server = Server("e2e", "1.2.3", instructions="be nice")

    @server.tool()
    async def echo(text: str) -> str:
        return text

    @server.tool()
    def fail() -> str:
        raise ValueError("this tool always fails")

    @server.tool()
    async def sleepy(seconds: float = 10) -> str:
        await anyio.sleep(seconds)
        return "woke up"

    return server


Connect = Callable[[str], Any]


@asynccontextmanager
async def memory_client(
    era: EraChoice, server: Server | None = None, **kw: Any
) -> AsyncIterator[Client]:
    ours, theirs = memory_pair()
    validator = FrameValidator()
    async with anyio.create_task_group() as tg:
        tg.start_soon((server or make_server()).serve, theirs)
        async with Client(
            ValidatingTransport(ours, validator, side="client"), era=era, **kw
        ) as client:
            yield client
        tg.cancel_scope.cancel()


@asynccontextmanager
async def stdio_example_client(era: EraChoice, **kw: Any) -> AsyncIterator[Client]:
    validator = FrameValidator()
    spawn = stdio_client(sys.executable, [str(EXAMPLES / "echo_server.py")])
    async with (
        spawn as transport,
        Client(
            ValidatingTransport(transport, validator, side="client"),
            era=era,
            **kw,
        ) as client,
    ):
        yield client


@pytest.mark.parametrize("era", ["auto", "modern", "legacy"])
async def test_memory_both_eras(era: EraChoice) -> None:
    async with memory_client(era) as client:
        assert client.era is (Era.LEGACY if era == "legacy" else Era.MODERN)
        assert client.protocol_version == ("2025-11-25" if era == "legacy" else "2026-07-28")
        assert client.server_info["name"] == "e2e"
        assert client.instructions == "be nice"
        assert "tools" in client.server_capabilities
        await client.ping()
        assert [t.name for t in await client.list_tools()] == ["echo", "fail", "sleepy"]
        result = await client.call_tool("echo", {"text": "hi"})
        assert result.content[0].text == "hi"  # type: ignore[union-attr]
        failed = await client.call_tool("fail")
        assert failed.is_error is True
        assert "always fails" in failed.content[0].text  # type: ignore[union-attr]


@pytest.mark.parametrize("era", ["auto", "legacy"])
async def test_stdio_example_server(era: EraChoice) -> None:
    async with stdio_example_client(era) as client:
        assert client.era is (Era.LEGACY if era == "legacy" else Era.MODERN)
        result = await client.call_tool("add", {"a": 2, "b": 3})
        assert result.content[0].text == "5"  # type: ignore[union-attr]


async def test_stdio_spawned_by_command_line() -> None:
    async with Client(f"{sys.executable} {EXAMPLES / 'echo_server.py'}") as client:
        assert client.era is Era.MODERN
        await client.ping()


async def test_unknown_method_and_undeclared_capability_in_both_eras() -> None:
    for era in ("modern", "legacy"):
        async with memory_client(era) as client:
            with pytest.raises(MethodNotFound):
                await client.request("x/unknown")
            # The server declared no prompts: a legacy client must not ask (a local error);
            # a modern request is stateless and the server answers -32601.
            expected = LocalProtocolError if era == "legacy" else MethodNotFound
            with pytest.raises(expected, match="prompts"):
                await client.request("prompts/list")
            await client.ping()


async def test_request_timeout_names_the_method_and_cancels() -> None:
    async with memory_client("legacy") as client:
        with pytest.raises(RequestTimeout, match="tools/call"):
            await client.request(
                "tools/call", {"name": "sleepy", "arguments": {"seconds": 30}}, timeout=0.2
            )
        await client.ping()  # still usable


async def test_server_pings_the_client_in_legacy() -> None:
    server = make_server()
    pinged = anyio.Event()

    @server.method("tools/call")
    async def call(session: Session, request: RequestReceived) -> dict[str, Any]:
        await session.ping(timeout=5)
        pinged.set()
        return {"content": []}

    async with memory_client("legacy", server) as client:
        await client.call_tool("anything")
        assert pinged.is_set()


async def test_silent_server_start_times_out_with_a_clear_error() -> None:
    with pytest.raises(ConnectError, match="did not answer"):
        async with Client(
            [sys.executable, "-c", "import time; time.sleep(30)"],
            start_timeout=0.5,
            probe_timeout=0.2,
        ):
            pass


async def test_crashing_server_reports_exit_code_and_stderr() -> None:
    script = "import sys; sys.stderr.write('boom: config missing\\n'); sys.exit(3)"
    with pytest.raises(ConnectError) as info:
        async with Client([sys.executable, "-c", script], start_timeout=5):
            pass
    message = str(info.value)
    assert "boom: config missing" in message
    assert "3" in message


async def test_stdio_server_answers_bad_input_and_keeps_serving() -> None:
    """Raw frames into a real stdio server: every bad one gets its error, then it still works."""
    modern = (
        '"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",'
        '"io.modelcontextprotocol/clientCapabilities":{}}'
    )
    cases: list[tuple[bytes, int | None, int]] = [
        (b"{not json", None, -32700),
        (b'["not", "an", "object"]', None, -32600),
        (b'{"jsonrpc":"1.0","id":1,"method":"ping"}', 1, -32600),
        (
            b'{"jsonrpc":"2.0","id":2,"method":"no/such/method","params":{%s}}' % modern.encode(),
            2,
            -32601,
        ),
        (
            b'{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":7,%s}}'
            % modern.encode(),
            3,
            -32602,
        ),
    ]
    async with stdio_client(sys.executable, [str(EXAMPLES / "echo_server.py")]) as transport:
        with anyio.fail_after(10):
            await transport.send(
                b'{"jsonrpc":"2.0","id":99,"result":{}}'
            )  # a stray response: ignored
            for frame, rid, code in cases:
                await transport.send(frame)
                reply = json.loads(await transport.receive())
                assert (reply.get("id"), reply["error"]["code"]) == (rid, code), reply
            await transport.send(
                b'{"jsonrpc":"2.0","id":4,"method":"server/discover","params":{%s}}'
                % modern.encode()
            )
            reply = json.loads(await transport.receive())
            assert reply["id"] == 4 and reply["result"]["supportedVersions"] == ["2026-07-28"]


@pytest.mark.parametrize("era", ["modern", "legacy"])
async def test_server_dying_mid_request_fails_the_call_clearly(era: EraChoice) -> None:
    script = Path(__file__).parent / "fixtures" / "dying_server.py"
    async with Client([sys.executable, str(script)], era=era) as client:
        with anyio.fail_after(10), pytest.raises(BrokenError) as info:
            await client.call_tool("die")
        message = str(info.value)
        assert "exit code 7" in message
        assert "the tool pulled the plug" in message
        with pytest.raises(BrokenError):
            await client.ping()  # the connection stays failed, with the same clear error


async def test_junk_on_a_servers_stdout_is_reported_and_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    example = str(EXAMPLES / "echo_server.py")
    script = (
        "import runpy, sys; print('Server starting... (junk)'); sys.stdout.flush(); "
        f"runpy.run_path({example!r}, run_name='__main__')"
    )
    async with Client([sys.executable, "-c", script]) as client:
        await client.ping()
    assert any(
        "non-JSON line" in r.getMessage() and "junk" in r.getMessage() for r in caplog.records
    )
