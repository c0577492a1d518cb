"""Interop of mcpkit's *client* features with servers it shares no code with.

Why: `tests/test_interop.py` proves the handshake and plain calls work; this file proves the
rest of the client does too, above all the half where the server asks the client (sampling,
elicitation, roots). Those asks travel differently in the two eras, as real server->client
requests in a legacy session and as `InputRequiredResult`s the client answers and retries in
the 2026-07-28 era, so one set of `Handlers` must satisfy both. The peers are the npm
reference server `@modelcontextprotocol/server-everything` (legacy only, so `era="auto"`
must fall back) and `tests/interop/official_everything.py`, built on the official Python SDK
(`mcp` 2.3.0), whose tools ask through the SDK's own resolver API in whichever era was
negotiated. Every frame mcpkit sends or receives is checked against the official schemas.
"""

from __future__ import annotations

import base64
import contextlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import jsonschema
import pytest

from mcpkit.client import Client
from mcpkit.client.handlers import Handlers
from mcpkit.protocol.types import (
    CallToolResult,
    LoggingMessageNotificationParams,
    TextContent,
)
from mcpkit.protocol.versions import Era
from mcpkit.testing import (
    Direction,
    FrameSchemaError,
    FrameValidator,
    Side,
    ValidatingTransport,
)
from mcpkit.transports.base import Transport
from mcpkit.transports.stdio import stdio_client
from tests.test_interop import _everything_command

pytestmark = [pytest.mark.anyio, pytest.mark.interop]

OFFICIAL_EVERYTHING = Path(__file__).resolve().parent / "interop" / "official_everything.py"
TIMEOUT = 60  # seconds for one whole test: spawning node or Python, plus a few requests
LISTEN = 10  # seconds to wait for a notification the server sends right away
ROOT_URI = "file:///tmp/mcpkit-interop/workspace"
MODEL = "mcpkit-test-model"
SAMPLED = "Morning pipes hum; frames cross, checked against the schema"
ASKS = ("sampling/createMessage", "elicitation/create", "roots/list")

Validating = Callable[[Transport, Side], ValidatingTransport]


# ---- the client's side: handlers that record what they were asked ------------------------


class Asked:
    """The `Handlers` every test gives its client, plus what they were asked and told.

    Sampling answers `SAMPLED`; elicitation accepts with content built from the requested
    schema (see `fill_form`); roots is one `file://` root. Logs and resource updates are
    kept, and `wait_for` blocks (bounded by the caller) until a condition on them holds.
    """

    def __init__(self) -> None:
        self.sampling: list[dict[str, Any]] = []
        self.elicitation: list[dict[str, Any]] = []
        self.answered: list[dict[str, Any]] = []
        self.roots_asked = 0
        self.logs: list[LoggingMessageNotificationParams] = []
        self.updated: list[str] = []
        self._news = anyio.Event()

    def handlers(self) -> Handlers:
        return Handlers(
            sampling=self.sample,
            elicitation=self.elicit,
            roots=self.roots,
            on_log=self.log,
            on_resource_updated=self.resource_updated,
        )

    def sample(self, params: dict[str, Any]) -> dict[str, Any]:
        self.sampling.append(params)
        content = {"type": "text", "text": SAMPLED}
        return {"role": "assistant", "model": MODEL, "content": content, "stopReason": "endTurn"}

    def elicit(self, params: dict[str, Any]) -> dict[str, Any]:
        self.elicitation.append(params)
        content = fill_form(params["requestedSchema"])
        self.answered.append(content)
        return {"action": "accept", "content": content}

    def roots(self) -> list[dict[str, str]]:
        self.roots_asked += 1
        return [{"uri": ROOT_URI, "name": "workspace"}]

    def log(self, params: LoggingMessageNotificationParams) -> None:
        self.logs.append(params)
        self._news.set()

    def resource_updated(self, uri: str) -> None:
        self.updated.append(uri)
        self._news.set()

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        """Return once `condition()` holds; re-checked after every log or update."""
        while not condition():
            self._news = anyio.Event()
            await self._news.wait()


def fill_form(schema: dict[str, Any]) -> dict[str, Any]:
    """Answer every field of a form-mode `requestedSchema` with a value it accepts.

    Choices take the last option (so an answer is told apart from a default); numbers are
    integers, as `ElicitResult.content` in the official schema allows no others.
    """
    return {name: _field_value(prop) for name, prop in schema.get("properties", {}).items()}


def _field_value(prop: dict[str, Any]) -> Any:
    kind = prop.get("type")
    if kind == "array":
        return [_choices(prop.get("items", {}))[-1]]
    choices = _choices(prop)
    if choices:
        return choices[-1]
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        return int(min(max(36, prop.get("minimum", 36)), prop.get("maximum", 36)))
    by_format = {"email": "ada@example.com", "uri": "https://example.com/ada", "date": "1815-12-10"}
    return by_format.get(prop.get("format", ""), "Ada")


def _choices(prop: dict[str, Any]) -> list[Any]:
    if "enum" in prop:
        return list(prop["enum"])
    return [option["const"] for option in prop.get("oneOf") or prop.get("anyOf") or []]


# ---- small helpers ---------------------------------------------------------------------


def _texts(result: CallToolResult) -> list[str]:
    """The text blocks of a tool result (failing the test on any other kind)."""
    assert result.is_error is not True, result
    texts = []
    for block in result.content:
        assert isinstance(block, TextContent), block
        texts.append(block.text)
    return texts


def _one_text(contents: list[dict[str, Any]]) -> str:
    assert len(contents) == 1, contents
    return str(contents[0]["text"])


def _one_blob(contents: list[dict[str, Any]]) -> bytes:
    assert len(contents) == 1, contents
    return base64.b64decode(contents[0]["blob"])


def _asks_sent(validator: FrameValidator) -> list[str]:
    """The server->client asks (real requests) the validator saw, in order."""
    return [
        r.method or ""
        for r in validator.records
        if r.direction == "s2c" and r.method in ASKS and (r.definition or "").endswith("Request")
    ]


def _tool_calls(validator: FrameValidator) -> int:
    """How many `tools/call` requests the client sent (first tries and MRTR retries)."""
    return sum(1 for r in validator.records if r.direction == "c2s" and r.method == "tools/call")


# ---- 1. the npm reference server (legacy only) -----------------------------------------


async def test_npm_everything_lists_reads_and_completes(validating: Validating) -> None:
    """Falls back to legacy, lists everything (all pages), calls plain tools, reads a text
    and a blob resource, gets a prompt with arguments, completes prompt and template args."""
    command = _everything_command()
    with anyio.fail_after(TIMEOUT):
        async with (
            stdio_client(command[0], command[1:]) as transport,
            Client(validating(transport, "client"), handlers=Asked().handlers()) as client,
        ):
            assert client.era is Era.LEGACY
            assert "completions" in client.server_capabilities
            tools = {tool.name for tool in await client.list_tools()}
            # the tools that ask the client are only there because the handlers are
            assert {"echo", "get-sum", "trigger-sampling-request"} <= tools
            assert {"trigger-elicitation-request", "get-roots-list"} <= tools
            echoed = await client.call_tool("echo", {"message": "interop"})
            assert _texts(echoed) == ["Echo: interop"]
            summed = await client.call_tool("get-sum", {"a": 19, "b": 23})
            assert _texts(summed) == ["The sum of 19 and 23 is 42."]
            await _check_npm_resources(client)
            await _check_npm_prompts(client)


async def _check_npm_resources(client: Client) -> None:
    resources = {resource.uri: resource for resource in await client.list_resources()}
    doc = "demo://resource/static/document/features.md"
    assert resources[doc].mime_type == "text/markdown"
    assert _one_text((await client.read_resource(doc)).contents).strip()
    templates = {t.uri_template for t in await client.list_resource_templates()}
    text_template = "demo://resource/dynamic/text/{resourceId}"
    assert {text_template, "demo://resource/dynamic/blob/{resourceId}"} <= templates
    text = _one_text((await client.read_resource("demo://resource/dynamic/text/2")).contents)
    assert text.startswith("Resource 2: This is a plaintext resource")
    blob = _one_blob((await client.read_resource("demo://resource/dynamic/blob/3")).contents)
    assert blob.startswith(b"Resource 3: This is a base64 blob")
    completed = await client.complete(
        {"type": "ref/resource", "uri": text_template}, "resourceId", "7"
    )
    assert completed.completion.values == ["7"]


async def _check_npm_prompts(client: Client) -> None:
    prompts = {prompt.name for prompt in await client.list_prompts()}
    assert {"simple-prompt", "args-prompt", "completable-prompt"} <= prompts
    got = await client.get_prompt("args-prompt", {"city": "Lyon", "state": "Rhône"})
    assert [m.role for m in got.messages] == ["user"]
    content = got.messages[0].content
    assert isinstance(content, TextContent)
    assert content.text == "What's weather in Lyon, Rhône?"
    ref = {"type": "ref/prompt", "name": "completable-prompt"}
    departments = await client.complete(ref, "department", "S")
    assert departments.completion.values == ["Sales", "Support"]
    names = await client.complete(ref, "name", "", context={"department": "Engineering"})
    assert names.completion.values == ["Alice", "Bob", "Charlie"]


async def test_npm_everything_asks_the_client(validating: Validating) -> None:
    """The server's own sampling, elicitation and roots requests reach the handlers, and
    what the handlers answered comes back in the tool results."""
    command = _everything_command()
    asked = Asked()
    with anyio.fail_after(TIMEOUT):
        async with (
            stdio_client(command[0], command[1:]) as transport,
            Client(validating(transport, "client"), handlers=asked.handlers()) as client,
        ):
            sampled = await client.call_tool("trigger-sampling-request", {"prompt": "a haiku"})
            reply = json.loads(_texts(sampled)[0].split("\n", 1)[1])
            assert reply == {
                "model": MODEL,
                "role": "assistant",
                "content": {"type": "text", "text": SAMPLED},
                "stopReason": "endTurn",
            }
            [sampling] = asked.sampling
            assert sampling["messages"][0]["content"]["text"].endswith(": a haiku")
            assert sampling["maxTokens"] == 100
            await _check_npm_elicitation(client, asked)
            listed = _texts(await client.call_tool("get-roots-list"))[0]
            assert listed.startswith("Current MCP Roots (1 total)")
            assert f"1. workspace\n   URI: {ROOT_URI}" in listed
    assert asked.roots_asked >= 1


async def _check_npm_elicitation(client: Client, asked: Asked) -> None:
    texts = _texts(await client.call_tool("trigger-elicitation-request"))
    [params] = asked.elicitation
    [content] = asked.answered
    jsonschema.validate(content, params["requestedSchema"])
    assert texts[0] == "✅ User provided the requested information!"
    assert "- Name: Ada\n" in texts[1]
    assert "- Favorite Integer: 36" in texts[1]
    raw = json.loads(texts[2].split("Raw result:", 1)[1])
    assert raw == {"action": "accept", "content": content}


async def test_npm_everything_logs_and_resource_updates(validating: Validating) -> None:
    """`logging/setLevel` then log messages reach `on_log`; `resources/subscribe` then an
    update reaches `on_resource_updated`. The server's timers tick every 5 s, but each
    toggle sends one message at once, so the waits are short and bounded."""
    command = _everything_command()
    asked = Asked()
    doc = "demo://resource/static/document/features.md"
    with anyio.fail_after(TIMEOUT):
        async with (
            stdio_client(command[0], command[1:]) as transport,
            Client(validating(transport, "client"), handlers=asked.handlers()) as client,
        ):
            assert client.server_capabilities["resources"]["subscribe"] is True
            assert "logging" in client.server_capabilities
            await client.set_logging_level("debug")
            await client.call_tool("toggle-simulated-logging")
            with anyio.fail_after(LISTEN):
                await asked.wait_for(lambda: any(_simulated(log) for log in asked.logs))
            await client.call_tool("toggle-simulated-logging")  # off again
            await client.subscribe_resource(doc)
            with anyio.fail_after(LISTEN):  # the subscribe handler logs at info
                await asked.wait_for(lambda: any(doc in str(log.data) for log in asked.logs))
            await client.call_tool("toggle-subscriber-updates")
            with anyio.fail_after(LISTEN):
                await asked.wait_for(lambda: doc in asked.updated)
            await client.call_tool("toggle-subscriber-updates")  # off again
            await client.unsubscribe_resource(doc)
    assert set(asked.updated) == {doc}


def _simulated(log: LoggingMessageNotificationParams) -> bool:
    """A message of the server's simulated logging ("Info-level message", ...)."""
    data = str(log.data)
    return data.startswith(log.level.capitalize()) and "message" in data


class _Lenient(ValidatingTransport):
    """Checks every frame but lets bad ones through (they are kept in `failures`), so a test
    can finish the conversation and then look at what was wrong."""

    def _check(self, frame: bytes, direction: Direction) -> None:
        with contextlib.suppress(FrameSchemaError):
            super()._check(frame, direction)


async def test_npm_everything_prefilled_defaults_stay_schema_valid(
    frame_validator: FrameValidator,
) -> None:
    """A handler that answers only the required field leaves the rest to mcpkit's defaults;
    a number default (3.14), which `ElicitResult.content` cannot carry, is left out rather
    than sent in an invalid frame."""
    command = _everything_command()
    handlers = Handlers(elicitation=lambda params: {"action": "accept", "content": {"name": "Ada"}})
    with anyio.fail_after(TIMEOUT):
        async with stdio_client(command[0], command[1:]) as transport:
            lenient = _Lenient(transport, frame_validator, side="client")
            async with Client(lenient, handlers=handlers) as client:
                texts = _texts(await client.call_tool("trigger-elicitation-request"))
    assert "3.14" not in texts[1]
    assert lenient.failures == []


# ---- 2. the official Python SDK's server, both eras ------------------------------------

ERAS = [
    pytest.param("auto", Era.MODERN, id="modern"),
    pytest.param("legacy", Era.LEGACY, id="legacy"),
]


@pytest.mark.parametrize(("choice", "era"), ERAS)
async def test_sdk_server_tools_ask_the_client(
    choice: Any, era: Era, validating: Validating, frame_validator: FrameValidator
) -> None:
    """The SDK's resolvers ask the client; mcpkit answers with the same handlers in both
    eras and gets the final results: via MRTR rounds (modern) or real requests (legacy)."""
    asked = Asked()
    with anyio.fail_after(TIMEOUT):
        async with (
            stdio_client(sys.executable, [str(OFFICIAL_EVERYTHING)]) as transport,
            Client(
                validating(transport, "client"), era=choice, handlers=asked.handlers()
            ) as client,
        ):
            assert client.era is era
            sampled = await client.call_tool("ask_llm", {"topic": "stdio pipes"})
            assert _texts(sampled) == [f"{MODEL} said: {SAMPLED}"]
            assert asked.sampling[0]["messages"][0]["content"]["text"] == "stdio pipes"
            assert asked.sampling[0]["systemPrompt"] == "Write a haiku."
            assert _texts(await client.call_tool("ask_user")) == ["Hello Ada, aged 36"]
            assert _texts(await client.call_tool("show_roots")) == [ROOT_URI]
            combined = await client.call_tool("ask_everything", {"topic": "all"})
            assert _texts(combined) == [f"{SAMPLED} | Ada | 1 root(s)"]
    assert (len(asked.sampling), len(asked.elicitation), asked.roots_asked) == (2, 2, 2)
    asks = _asks_sent(frame_validator)
    if era is Era.MODERN:  # one retry per tool: ask_everything's three asks come batched
        assert (asks, _tool_calls(frame_validator)) == ([], 8)
    else:
        assert (sorted(asks), _tool_calls(frame_validator)) == (sorted([*ASKS, *ASKS]), 4)


@pytest.mark.parametrize(("choice", "era"), ERAS)
async def test_sdk_server_lists_reads_and_gets(
    choice: Any, era: Era, validating: Validating
) -> None:
    """Tools, resources, templates and prompts listed; a text, a blob and a templated
    resource read; a prompt got with arguments; a prompt argument completed."""
    with anyio.fail_after(TIMEOUT):
        async with (
            stdio_client(sys.executable, [str(OFFICIAL_EVERYTHING)]) as transport,
            Client(
                validating(transport, "client"), era=choice, handlers=Asked().handlers()
            ) as client,
        ):
            assert client.era is era
            assert client.server_info["name"] == "official-everything"
            tools = [tool.name for tool in await client.list_tools()]
            assert tools == ["ask_llm", "ask_user", "show_roots", "ask_everything"]
            resources = {r.uri: r.mime_type for r in await client.list_resources()}
            assert resources == {
                "doc://readme": "text/plain",
                "doc://logo": "application/octet-stream",
            }
            templates = [t.uri_template for t in await client.list_resource_templates()]
            assert templates == ["greeting://{name}"]
            readme = _one_text((await client.read_resource("doc://readme")).contents)
            assert readme == "This server asks its client for things."
            logo = _one_blob((await client.read_resource("doc://logo")).contents)
            assert logo == b"\x89PNG\r\n\x1a\n-not-really"
            greeting = _one_text((await client.read_resource("greeting://Ada")).contents)
            assert greeting == "Hello, Ada!"
            await _check_sdk_prompt(client)


async def _check_sdk_prompt(client: Client) -> None:
    prompts = {p.name: [a.name for a in p.arguments or []] for p in await client.list_prompts()}
    assert prompts == {"review": ["code", "language"]}
    got = await client.get_prompt("review", {"code": "print(1)", "language": "perl"})
    content = got.messages[0].content
    assert isinstance(content, TextContent)
    assert content.text == "Please review this perl code:\nprint(1)"
    completed = await client.complete({"type": "ref/prompt", "name": "review"}, "language", "p")
    assert completed.completion.values == ["python", "perl", "php"]
