"""Interop: mcpkit against peers it shares no code with, over real stdio pipes.

Why: mcpkit's own client and server agreeing proves little, since the same misreading of the
spec can sit on both sides. These tests pair each side of mcpkit with an independent
implementation: the official Python SDK (`mcp` 2.3.0) as client and as server, and the npm
reference server `@modelcontextprotocol/server-everything`, a legacy-only server. Where
mcpkit's client is involved, every frame is also checked against the official JSON Schema.

The npm server is installed by `make setup` into `.cache/npm` (`$MCPKIT_NPM_DIR`). Without
it (or without node) its test is skipped on a developer machine but fails in CI.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client import Client as SdkClient
from mcp.client.stdio import StdioServerParameters

from mcpkit.client import Client
from mcpkit.protocol.types import TextContent
from mcpkit.protocol.versions import LEGACY_VERSIONS, Era
from mcpkit.testing import FrameValidator, Side, ValidatingTransport
from mcpkit.transports.base import Transport
from mcpkit.transports.stdio import stdio_client

pytestmark = [pytest.mark.anyio, pytest.mark.interop]

ROOT = Path(__file__).resolve().parent.parent
ECHO_SERVER = ROOT / "examples" / "echo_server.py"
OFFICIAL_SERVER = Path(__file__).resolve().parent / "interop" / "official_server.py"
MODERN = "2026-07-28"
SERVER_INFO = "io.modelcontextprotocol/serverInfo"
TIMEOUT = 60  # seconds for one whole test: spawning node or Python, plus a few requests

Validating = Callable[[Transport, Side], ValidatingTransport]


# ---- helpers -----------------------------------------------------------------------------


class Recording:
    """A transport that keeps a parsed copy of every frame passing through it.

    Sits under `ValidatingTransport` so a test can look at what was said, not only at
    whether it was well-formed (e.g. which error code answered the discover probe).
    """

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.frames: list[Any] = []

    async def send(self, frame: bytes) -> None:
        self._keep(frame)
        await self.inner.send(frame)

    async def receive(self) -> bytes:
        frame = await self.inner.receive()
        self._keep(frame)
        return frame

    async def aclose(self) -> None:
        await self.inner.aclose()

    def describe(self) -> str:
        return self.inner.describe()

    def __getattr__(self, name: str) -> Any:  # returncode, stderr_tail: for error messages
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def answer_to(self, method: str) -> dict[str, Any]:
        """The response to the first request for `method`."""
        request_id = next(f["id"] for f in self.frames if f.get("method") == method and "id" in f)
        return next(f for f in self.frames if "method" not in f and f.get("id") == request_id)

    def _keep(self, frame: bytes) -> None:
        try:
            self.frames.append(json.loads(frame))
        except ValueError:
            self.frames.append({"unparsed": repr(frame)})


def _text(content: Any) -> str:
    """The text of a content block (failing the test if it is not text)."""
    assert isinstance(content, TextContent), content
    return content.text


def _sdk_text(block: Any) -> str:
    """The text of a content block the SDK parsed."""
    assert block.type == "text", block
    return str(block.text)


def _sdk_stdio(script: Path) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=[str(script)], cwd=str(ROOT))


def _everything_command() -> list[str]:
    """argv for the npm reference server; skips (fails in CI) if it is not installed."""
    npm_dir = Path(os.environ.get("MCPKIT_NPM_DIR") or ROOT / ".cache" / "npm")
    entry = npm_dir / "node_modules" / ".bin" / "mcp-server-everything"
    node = shutil.which("node")
    missing = [name for name, found in (("node", node), (str(entry), entry.exists())) if not found]
    if node is None or missing:
        reason = f"npm reference server unavailable, missing: {', '.join(missing)} (`make setup`)"
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"{reason}; CI must run this test, not skip it")
        pytest.skip(reason)
    return [node, str(entry), "stdio"]  # its argv[1] picks the transport (default stdio)


# ---- 1. the official SDK's client -> mcpkit's stdio server ------------------------------


async def test_sdk_client_legacy_handshake_against_mcpkit_server() -> None:
    """The SDK forced to the legacy era: initialize, ping, list tools, call `echo`."""
    with anyio.fail_after(TIMEOUT):
        async with SdkClient(
            _sdk_stdio(ECHO_SERVER), mode="legacy", read_timeout_seconds=TIMEOUT
        ) as client:
            assert client.session.initialize_result is not None
            assert client.session.discover_result is None
            assert client.protocol_version == "2025-11-25"
            assert client.server_info is not None
            assert client.server_info.name == "echo-server"
            assert client.instructions == "Echoes text and adds numbers."
            assert client.server_capabilities.tools is not None
            # `client.send_ping` is deprecated (modern has no ping); the session's is not.
            await client.session.send_ping()
            listed = await client.list_tools()
            assert [tool.name for tool in listed.tools] == ["echo", "add"]
            result = await client.call_tool("echo", {"text": "hello from the SDK"})
            assert result.is_error is False
            assert [_sdk_text(block) for block in result.content] == ["hello from the SDK"]


@pytest.mark.parametrize("mode", ["auto", MODERN])
async def test_sdk_client_modern_era_against_mcpkit_server(mode: str) -> None:
    """The SDK in the modern era: probed (`auto`) or pinned to 2026-07-28, then an explicit
    `server/discover`, list tools, call `add`."""
    with anyio.fail_after(TIMEOUT):
        async with SdkClient(
            _sdk_stdio(ECHO_SERVER), mode=mode, read_timeout_seconds=TIMEOUT
        ) as client:
            assert client.protocol_version == MODERN
            assert client.session.initialize_result is None
            if mode == "auto":  # the probe's real DiscoverResult was adopted
                assert client.server_info is not None
                assert client.server_info.name == "echo-server"
                assert client.server_capabilities.tools is not None
            discovered = await client.session.send_discover(MODERN)
            assert MODERN in discovered["supportedVersions"]
            assert discovered["resultType"] == "complete"
            assert discovered["_meta"][SERVER_INFO]["name"] == "echo-server"
            assert "tools" in discovered["capabilities"]
            listed = await client.list_tools()
            assert [tool.name for tool in listed.tools] == ["echo", "add"]
            result = await client.call_tool("add", {"a": 2, "b": 40})
            assert result.is_error is False
            assert [_sdk_text(block) for block in result.content] == ["42"]
            failed = await client.call_tool("add", {"a": "two", "b": 40})
            assert failed.is_error is True
            for answer in (result, failed):  # spec: SHOULD stamp every modern result
                assert answer.meta is not None
                assert answer.meta[SERVER_INFO]["name"] == "echo-server"


# ---- 2. mcpkit's client -> the npm reference server (legacy only) -----------------------


async def test_mcpkit_client_falls_back_to_legacy_with_npm_everything(
    validating: Validating,
) -> None:
    """`era="auto"`: the discover probe gets -32601, the client falls back to `initialize`."""
    command = _everything_command()
    with anyio.fail_after(TIMEOUT):
        async with stdio_client(command[0], command[1:]) as transport:
            recording = Recording(transport)
            async with Client(validating(recording, "client"), era="auto") as client:
                assert client.era is Era.LEGACY
                assert client.protocol_version in LEGACY_VERSIONS
                assert client.server_info["name"] == "mcp-servers/everything"
                assert "tools" in client.server_capabilities
                await client.ping()
                names = [tool.name for tool in await client.list_tools()]
                assert {"echo", "get-sum"} <= set(names)
                echoed = await client.call_tool("echo", {"message": "hi from mcpkit"})
                assert echoed.is_error is not True
                assert [_text(block) for block in echoed.content] == ["Echo: hi from mcpkit"]
                summed = await client.call_tool("get-sum", {"a": 20, "b": 22})
                assert "42" in _text(summed.content[0])
    probe = recording.answer_to("server/discover")
    assert probe["error"]["code"] == -32601, probe
    assert recording.answer_to("initialize")["result"]["protocolVersion"] in LEGACY_VERSIONS


# ---- 3. mcpkit's client -> the official SDK's stdio server ------------------------------


async def test_mcpkit_client_negotiates_modern_with_sdk_server(validating: Validating) -> None:
    """`era="auto"` against a dual-era SDK server: discover succeeds, no handshake."""
    with anyio.fail_after(TIMEOUT):
        async with stdio_client(sys.executable, [str(OFFICIAL_SERVER)]) as transport:
            recording = Recording(transport)
            async with Client(validating(recording, "client"), era="auto") as client:
                assert client.era is Era.MODERN
                assert client.protocol_version == MODERN
                assert client.server_info["name"] == "official-sdk-server"
                assert client.instructions == "The SDK's own server."
                assert "tools" in client.server_capabilities
                await client.ping()  # modern: another server/discover
                names = [tool.name for tool in await client.list_tools()]
                assert names == ["add", "shout", "ping_client"]
                result = await client.call_tool("add", {"a": 2, "b": 40})
                assert result.is_error is not True
                assert [_text(block) for block in result.content] == ["42"]
                shouted = await client.call_tool("shout", {"text": "quiet"})
                assert _text(shouted.content[0]) == "QUIET"
    assert not any(f.get("method") == "initialize" for f in recording.frames)


async def test_mcpkit_client_forced_legacy_with_sdk_server(validating: Validating) -> None:
    """`era="legacy"` against the same SDK server: a plain `initialize` handshake."""
    with anyio.fail_after(TIMEOUT):
        async with (
            stdio_client(sys.executable, [str(OFFICIAL_SERVER)]) as transport,
            Client(validating(transport, "client"), era="legacy") as client,
        ):
            assert client.era is Era.LEGACY
            assert client.protocol_version == "2025-11-25"
            assert client.server_info["name"] == "official-sdk-server"
            await client.ping()
            names = [tool.name for tool in await client.list_tools()]
            assert names == ["add", "shout", "ping_client"]
            result = await client.call_tool("shout", {"text": "legacy"})
            assert [_text(block) for block in result.content] == ["LEGACY"]


# ---- 4. the official SDK's server pings mcpkit's client (legacy only) -------------------


async def test_sdk_server_pings_mcpkit_client_in_legacy(
    validating: Validating, frame_validator: FrameValidator
) -> None:
    """A tool of the SDK server pings its client before answering: mcpkit must answer the
    server->client `ping` while its own `tools/call` is still pending."""
    with anyio.fail_after(TIMEOUT):
        async with (
            stdio_client(sys.executable, [str(OFFICIAL_SERVER)]) as transport,
            Client(validating(transport, "client"), era="legacy") as client,
        ):
            result = await client.call_tool("ping_client")
            assert result.is_error is not True
            assert _text(result.content[0]) == "client answered the ping"
    pings = [(r.direction, r.definition) for r in frame_validator.records if r.method == "ping"]
    assert pings == [("s2c", "PingRequest"), ("c2s", "EmptyResult")]
