"""Interop: the official SDK's client drives mcpkit's framework server, in both eras.

Why: `test_interop.py` proves the handshake and a plain tool call against a tiny echo
server. The framework's richer surface (derived schemas, structured output, resources and
templates, prompts, completions, logging, and above all asking the client: elicitation,
sampling, roots) is where a quiet misreading of the spec would hide, and mcpkit's own
client would share it. The official Python SDK (`mcp` 2.3.0) shares no code with mcpkit,
so here it spawns `tests/framework_server.py` over stdio and uses it as any host would.

Each test runs in the legacy era (an `initialize` session, where asking the client means
real server->client requests) and in the modern 2026-07-28 era (stateless, where the server
answers `InputRequiredResult` and the SDK's own multi-round-trip driver retries). The same
SDK callbacks answer both, so the two paths must give the same results.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import mcp_types as sdk
import pytest
from mcp.client import Client as SdkClient
from mcp.client.session import ClientRequestContext
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError
from pydantic import FileUrl

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parent.parent
FRAMEWORK_SERVER = Path(__file__).resolve().parent / "framework_server.py"
MODERN = "2026-07-28"
ERAS = pytest.mark.parametrize("mode", ["legacy", MODERN])
TIMEOUT = 60  # seconds for one whole test: spawning Python plus a handful of requests
ROOT_URI = "file:///tmp/project"


# ---- the SDK client and its callbacks ----------------------------------------------------


async def _elicit(
    context: ClientRequestContext, params: sdk.ElicitRequestParams
) -> sdk.ElicitResult | sdk.ErrorData:
    """The user types "Ada" into whatever form the server asks for."""
    return sdk.ElicitResult(action="accept", content={"name": "Ada"})


async def _sample(
    context: ClientRequestContext, params: sdk.CreateMessageRequestParams
) -> sdk.CreateMessageResult | sdk.CreateMessageResultWithTools | sdk.ErrorData:
    """A stand-in LLM that always says "hi!"."""
    return sdk.CreateMessageResult(
        role="assistant", content=sdk.TextContent(type="text", text="hi!"), model="stub-llm"
    )


async def _roots(context: ClientRequestContext) -> sdk.ListRootsResult | sdk.ErrorData:
    """One root folder."""
    return sdk.ListRootsResult(roots=[sdk.Root(uri=FileUrl(ROOT_URI), name="project")])


@asynccontextmanager
async def _connect(mode: str, **options: Any) -> AsyncIterator[SdkClient]:
    """The SDK client on `framework_server.py` over stdio, in `mode`'s era."""
    server = StdioServerParameters(
        command=sys.executable, args=[str(FRAMEWORK_SERVER)], cwd=str(ROOT)
    )
    async with SdkClient(server, mode=mode, read_timeout_seconds=TIMEOUT, **options) as client:
        assert client.protocol_version == ("2025-11-25" if mode == "legacy" else MODERN)
        yield client


def _text(block: Any) -> str:
    """The text of a content block the SDK parsed (failing the test if it is not text)."""
    assert block.type == "text", block
    return str(block.text)


# ---- 1. tools ---------------------------------------------------------------------------


@pytest.mark.interop
@ERAS
async def test_tool_schemas(mode: str) -> None:
    """Derived input schemas and the output schema of a structured tool reach the SDK."""
    with anyio.fail_after(TIMEOUT):
        async with _connect(mode) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert {"forecast", "add", "greet", "two_questions", "chatty"} <= set(tools)
    forecast = tools["forecast"]
    assert forecast.description == "Forecast the weather for a city."
    assert forecast.input_schema["required"] == ["city"]
    assert forecast.input_schema["properties"]["city"]["type"] == "string"
    assert forecast.output_schema is not None
    assert set(forecast.output_schema["required"]) >= {"city", "temperature", "unit"}
    assert forecast.annotations is not None
    assert forecast.annotations.read_only_hint is True
    add = tools["add"]
    assert sorted(add.input_schema["required"]) == ["a", "b"]
    assert add.input_schema["properties"]["a"]["type"] == "integer"


@pytest.mark.interop
@ERAS
async def test_structured_tool_results(mode: str) -> None:
    """`forecast` and `add` answer with `structuredContent` (validated by the SDK against
    the listed output schema) and a text mirror of it."""
    with anyio.fail_after(TIMEOUT):
        async with _connect(mode) as client:
            await client.list_tools()  # so the SDK knows the output schemas to check
            weather = await client.call_tool("forecast", {"city": "Oslo", "unit": "fahrenheit"})
            summed = await client.call_tool("add", {"a": 2, "b": 40})
    assert weather.is_error is False
    expected = {"city": "Oslo", "temperature": 21.5, "unit": "fahrenheit"}
    assert weather.structured_content == expected
    assert json.loads(_text(weather.content[0])) == expected
    assert summed.is_error is False
    assert summed.structured_content == {"result": 42}
    assert _text(summed.content[0]) == "42"


@pytest.mark.interop
@ERAS
async def test_bad_arguments_are_a_readable_tool_error(mode: str) -> None:
    """Arguments failing the schema come back as an `isError` result naming the problem,
    not as a protocol error: the model can read it and correct itself."""
    with anyio.fail_after(TIMEOUT):
        async with _connect(mode) as client:
            failed = await client.call_tool("add", {"a": "two", "b": 40})
    assert failed.is_error is True
    message = " ".join(_text(block) for block in failed.content)
    assert "a: Input should be a valid integer" in message, message
    assert '"two"' in message, message


# ---- 2. resources -----------------------------------------------------------------------


@pytest.mark.interop
@ERAS
async def test_resources_and_templates(mode: str) -> None:
    """List resources and templates; read text, binary and templated resources."""
    with anyio.fail_after(TIMEOUT):
        async with _connect(mode) as client:
            listed = await client.list_resources()
            templates = await client.list_resource_templates()
            static = await client.read_resource("test://static")
            binary = await client.read_resource("test://binary")
            item = await client.read_resource("test://items/7")
    by_uri = {str(resource.uri): resource for resource in listed.resources}
    assert {"test://static", "test://binary"} <= set(by_uri)
    assert by_uri["test://static"].mime_type == "text/plain"
    assert by_uri["test://static"].description == "Static text"
    patterns = {t.uri_template: t for t in templates.resource_templates}
    assert {"test://items/{item_id}", "file:///srv/{+path}"} <= set(patterns)
    assert patterns["test://items/{item_id}"].mime_type == "application/json"
    (text,) = static.contents
    assert isinstance(text, sdk.TextResourceContents)
    assert (str(text.uri), text.text, text.mime_type) == (
        "test://static",
        "static content",
        "text/plain",
    )
    (blob,) = binary.contents
    assert isinstance(blob, sdk.BlobResourceContents)
    assert base64.b64decode(blob.blob) == b"\x89PNG\r\n\x1a\n"
    assert blob.mime_type == "image/png"
    (json_item,) = item.contents
    assert isinstance(json_item, sdk.TextResourceContents)
    assert str(json_item.uri) == "test://items/7"
    assert json.loads(json_item.text) == {"id": 7, "double": 14}


# ---- 3. prompts and completions ---------------------------------------------------------


@pytest.mark.interop
@ERAS
async def test_prompts(mode: str) -> None:
    """List prompts with their arguments; get `review` with arguments."""
    with anyio.fail_after(TIMEOUT):
        async with _connect(mode) as client:
            listed = await client.list_prompts()
            got = await client.get_prompt("review", {"code": "fn main() {}", "language": "rust"})
    prompts = {prompt.name: prompt for prompt in listed.prompts}
    assert {"review", "conversation"} <= set(prompts)
    assert prompts["conversation"].title == "Conversation"
    arguments = {arg.name: arg.required for arg in prompts["review"].arguments or []}
    assert arguments == {"code": True, "language": False}
    (message,) = got.messages
    assert message.role == "user"
    assert _text(message.content) == "Please review this rust code:\nfn main() {}"


@pytest.mark.interop
@ERAS
async def test_completions(mode: str) -> None:
    """Complete a prompt argument (from its `Literal`) and a template variable."""
    with anyio.fail_after(TIMEOUT):
        async with _connect(mode) as client:
            language = await client.complete(
                sdk.PromptReference(type="ref/prompt", name="review"),
                {"name": "language", "value": "r"},
            )
            item = await client.complete(
                sdk.ResourceTemplateReference(type="ref/resource", uri="test://items/{item_id}"),
                {"name": "item_id", "value": "19"},
            )
    assert language.completion.values == ["rust"]
    assert item.completion.values == ["19", *(str(n) for n in range(190, 200))]


# ---- 4. asking the client: elicitation, sampling, roots ---------------------------------


@pytest.mark.interop
@ERAS
async def test_elicitation(mode: str) -> None:
    """`greet` asks the user's name; the SDK's elicitation callback answers it."""
    with anyio.fail_after(TIMEOUT):
        async with _connect(mode, elicitation_callback=_elicit) as client:
            result = await client.call_tool("greet")
    assert result.is_error is False, result
    assert [_text(block) for block in result.content] == ["Hello, Ada!"]


@pytest.mark.interop
@ERAS
async def test_elicitation_sampling_and_roots(mode: str) -> None:
    """`two_questions` asks for elicitation and sampling at once, then for roots."""
    callbacks: dict[str, Any] = {
        "elicitation_callback": _elicit,
        "sampling_callback": _sample,
        "list_roots_callback": _roots,
    }
    with anyio.fail_after(TIMEOUT):
        async with _connect(mode, **callbacks) as client:
            result = await client.call_tool("two_questions")
    assert result.is_error is False, result
    assert [_text(block) for block in result.content] == ["Ada / hi! / 1 roots"]


@pytest.mark.interop
async def test_modern_rounds_as_the_sdk_sees_them() -> None:
    """Modern, driving the SDK's session by hand: the two concurrent asks share the first
    `InputRequiredResult` (keys chosen by the tool), roots come in a second round, and the
    opaque `requestState` carries the answers across."""
    session_options: dict[str, Any] = {
        "elicitation_callback": _elicit,
        "sampling_callback": _sample,
        "list_roots_callback": _roots,
    }
    rounds: list[set[str]] = []
    with anyio.fail_after(TIMEOUT):
        async with _connect(MODERN, **session_options) as client:
            session = client.session
            answer: Any = await session.call_tool("two_questions", {}, allow_input_required=True)
            responses: dict[str, Any] = {}
            while isinstance(answer, sdk.InputRequiredResult):
                assert answer.request_state, answer  # the server keeps nothing between rounds
                rounds.append(set(answer.input_requests or {}))
                for key, request in (answer.input_requests or {}).items():
                    context = ClientRequestContext(session=session, request_id=key)
                    responses[key] = await session.dispatch_input_request(context, request)
                answer = await session.call_tool(
                    "two_questions",
                    {},
                    input_responses=responses,
                    request_state=answer.request_state,
                    allow_input_required=True,
                )
    assert rounds == [{"name", "llm"}, {"roots"}]
    assert [_text(block) for block in answer.content] == ["Ada / hi! / 1 roots"]


@pytest.mark.interop
@ERAS
async def test_asking_without_the_capability(mode: str) -> None:
    """No elicitation callback, so the SDK declares no elicitation capability: legacy gets a
    readable tool error, modern the -32021 error naming the missing capability."""
    with anyio.fail_after(TIMEOUT):
        async with _connect(mode) as client:
            if mode == "legacy":
                result = await client.call_tool("greet")
                assert result.is_error is True
                assert "does not support elicitation" in _text(result.content[0])
                return
            with pytest.raises(MCPError) as raised:
                await client.call_tool("greet")
    assert raised.value.code == -32021
    assert raised.value.data == {"requiredCapabilities": {"elicitation": {}}}


# ---- 5. logging and progress -----------------------------------------------------------


class Notes:
    """What the SDK's logging and progress callbacks received, with a bounded wait."""

    def __init__(self, progress_expected: int) -> None:
        self.logs: list[tuple[str, Any]] = []
        self.progress: list[tuple[float, float | None, str | None]] = []
        self._progress_expected = progress_expected
        self._all_progress = anyio.Event()

    async def on_log(self, params: sdk.LoggingMessageNotificationParams) -> None:
        self.logs.append((params.level, params.data))

    async def on_progress(self, progress: float, total: float | None, message: str | None) -> None:
        self.progress.append((progress, total, message))
        if len(self.progress) >= self._progress_expected:
            self._all_progress.set()

    async def settled(self) -> None:
        """Wait for the last progress step: `chatty` sends its logs before any progress."""
        await self._all_progress.wait()


STEPS = [(1.0, 3.0, "step 1"), (2.0, 3.0, "step 2"), (3.0, 3.0, "step 3")]


@pytest.mark.interop
@ERAS
async def test_logging_and_progress(mode: str) -> None:
    """`chatty` logs debug, info and error, then reports three progress steps. Legacy: the
    server's default level (info) applies; modern: the SDK opts in per request at info.
    Either way the SDK's logging callback gets info and error, never debug."""
    notes = Notes(progress_expected=len(STEPS))
    options: dict[str, Any] = {"logging_callback": notes.on_log}
    if mode == MODERN:
        options["log_level"] = "info"
    with anyio.fail_after(TIMEOUT):
        async with _connect(mode, **options) as client:
            result = await client.call_tool("chatty", progress_callback=notes.on_progress)
            await notes.settled()
    assert [_text(block) for block in result.content] == ["done"]
    assert notes.logs == [("info", "working"), ("error", "something odd")]
    assert notes.progress == STEPS


@pytest.mark.interop
async def test_modern_logs_only_when_the_request_opts_in() -> None:
    """Modern: without a log level in the request's `_meta` the server MUST NOT log to it;
    progress, asked for with a progress token, still arrives."""
    notes = Notes(progress_expected=len(STEPS))
    with anyio.fail_after(TIMEOUT):
        async with _connect(MODERN, logging_callback=notes.on_log) as client:
            await client.call_tool("chatty", progress_callback=notes.on_progress)
            await notes.settled()
    assert notes.logs == []
    assert notes.progress == STEPS
