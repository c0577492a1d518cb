"""A client harness for the everything server's tests: it answers the server's asks like
a friendly host, records what the server asked and notified, and connects over memory or
stdio with every frame checked against the official schema.

Layer: tests. `test_everything_server.py` holds the checks; this module holds the client
side so that the test module stays about what is expected.
"""

from __future__ import annotations

import struct
import sys
import zlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import anyio
import msgspec

from mcpkit.client import Client, EraChoice
from mcpkit.protocol.types import InputRequiredResult
from mcpkit.servers.everything import build
from mcpkit.testing import FrameValidator, ValidatingTransport
from mcpkit.transports.memory import memory_pair
from mcpkit.transports.stdio import stdio_client
from tests.http_harness import HTTP_KINDS, http_transport

ALL_CAPS: dict[str, Any] = {"elicitation": {}, "sampling": {}, "roots": {}}
LOG_LEVEL = "io.modelcontextprotocol/logLevel"
SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId"
ROOTS = [{"uri": "file:///home/ada", "name": "home"}]
SAMPLE_FIELDS: dict[str, Any] = {
    "name": "Ada",
    "username": "ada",
    "email": "ada@example.com",
    "ok": True,
    "color": "blue",
    "context": "testing",
}
REPLIES = {"What is the capital of France?": "Paris", "Generate a greeting": "Hello there!"}

# ---- the client side: answers, recorded asks, notifications ------------------------------


def fill(schema: dict[str, Any]) -> dict[str, Any]:
    """A filled-in form: known field names get sample values, the rest a valid choice."""
    return {
        name: SAMPLE_FIELDS.get(name, _value_for(prop))
        for name, prop in schema.get("properties", {}).items()
    }


def _value_for(prop: dict[str, Any]) -> Any:
    if prop.get("type") == "array":
        items = prop["items"]
        return items["enum"][:2] if "enum" in items else [c["const"] for c in items["anyOf"][:2]]
    if "enum" in prop:
        return prop["enum"][-1]
    if "oneOf" in prop:
        return prop["oneOf"][-1]["const"]
    return {"string": "text", "integer": 7, "number": 8, "boolean": False}[prop["type"]]


def answer(method: str, params: dict[str, Any]) -> dict[str, Any]:
    """What a friendly client answers to a server's request (or MRTR input request)."""
    if method == "elicitation/create":
        return {"action": "accept", "content": fill(params["requestedSchema"])}
    if method == "sampling/createMessage":
        asked = params["messages"][0]["content"]["text"]
        reply = REPLIES.get(asked, f"echo: {asked}")
        return {"role": "assistant", "content": {"type": "text", "text": reply}, "model": "m"}
    assert method == "roots/list"
    return {"roots": ROOTS}


def kind(block: Any) -> str:
    """A content block's `type` (the tag of its wire struct)."""
    tag: str = block.__struct_config__.tag
    return tag


Round = dict[str, tuple[str, dict[str, Any]]]  # key (legacy: "#n") -> (method, params)


@dataclass
class Outcome:
    result: Any
    rounds: list[Round]  # what the server asked, round by round (legacy: one round)

    @property
    def text(self) -> str:
        texts = [b.text for b in self.result.content if kind(b) == "text"]
        return " ".join(texts)


@dataclass
class Harness:
    """A connected client that answers the server's asks and records what happens."""

    client: Client = field(init=False)
    asked: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    notes: list[tuple[str, Any]] = field(default_factory=list)
    _heard: anyio.Event = field(default_factory=anyio.Event)

    async def on_request(self, method: str, params: Any) -> dict[str, Any]:
        wire = msgspec.to_builtins(params)
        self.asked.append((method, wire))
        return answer(method, wire)

    async def on_notification(self, method: str, params: Any) -> None:
        self.notes.append((method, params))
        self._heard.set()
        self._heard = anyio.Event()

    def heard(self, method: str) -> list[Any]:
        return [params for m, params in self.notes if m == method]

    async def wait_for(self, method: str, count: int = 1) -> list[Any]:
        with anyio.fail_after(10):
            while len(self.heard(method)) < count:
                await self._heard.wait()
        return self.heard(method)

    async def call(self, name: str, arguments: dict[str, Any] | None = None, **kw: Any) -> Outcome:
        """tools/call (or `method=`), answering MRTR rounds the way a client does."""
        method = kw.pop("method", "tools/call")
        params: dict[str, Any] = {"name": name, "arguments": arguments or {}}
        rounds: list[Round] = []
        for _ in range(5):
            start = len(self.asked)
            result = await self.client.request(method, params, **kw)
            if self.asked[start:]:
                rounds.append({f"#{i}": ask for i, ask in enumerate(self.asked[start:])})
            if not isinstance(result, InputRequiredResult):
                return Outcome(result, rounds)
            rounds.append(round_of(result))
            params = {**params, "inputResponses": _answers(rounds[-1])}
            params["requestState"] = result.request_state
        raise AssertionError("too many rounds")


def round_of(result: InputRequiredResult) -> Round:
    wire = msgspec.to_builtins(result.input_requests)
    return {key: (ask["method"], ask.get("params", {})) for key, ask in wire.items()}


def _answers(round_: Round) -> dict[str, Any]:
    return {key: answer(method, params) for key, (method, params) in round_.items()}


@asynccontextmanager
async def connect(
    era: EraChoice, transport: str = "memory", capabilities: dict[str, Any] | None = None
) -> AsyncIterator[Harness]:
    harness = Harness()
    asks = ("elicitation/create", "sampling/createMessage", "roots/list")
    handlers = {method: partial(harness.on_request, method) for method in asks}
    async with AsyncExitStack() as stack:
        if transport == "memory":
            ours, theirs = memory_pair()
            tg = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(tg.cancel_scope.cancel)
            tg.start_soon(build().serve, theirs)
            inner: Any = ours
        elif transport in HTTP_KINDS:  # real uvicorn
            headers = lambda tool: harness.client.param_headers(tool)  # noqa: E731
            inner = await stack.enter_async_context(http_transport(build(), transport, headers))
        else:
            argv = ["-m", "mcpkit", "server", "everything"]
            inner = await stack.enter_async_context(stdio_client(sys.executable, argv))
        wrapped = ValidatingTransport(inner, FrameValidator(), side="client")
        harness.client = await stack.enter_async_context(
            Client(
                wrapped,
                era=era,
                capabilities=ALL_CAPS if capabilities is None else capabilities,
                handlers=handlers,
                on_notification=harness.on_notification,
            )
        )
        if transport.startswith("http-"):
            await harness.client.list_tools()  # which arguments travel as Mcp-Param-* headers
        yield harness
    assert not wrapped.failures, wrapped.failures[0]


def only_asks(outcome: Outcome, index: int = 0) -> list[tuple[str, dict[str, Any]]]:
    """The (method, params) asked in one round, in key order."""
    return [outcome.rounds[index][key] for key in sorted(outcome.rounds[index])]


def subset(params: dict[str, Any], expected: dict[str, Any]) -> bool:
    return all(params.get(key) == value for key, value in expected.items())


def check_png(data: bytes) -> None:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks[kind] = body
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 2)
    assert len(zlib.decompress(chunks[b"IDAT"])) == height * (1 + 3 * width)
    assert b"IEND" in chunks
