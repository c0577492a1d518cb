"""The everything server's plain tools: content of every kind, errors, logging, progress,
list changes at runtime, a verbatim JSON Schema 2020-12 input schema, an HTTP header param.

Layer: applications (servers/everything); public API only (`mcpkit.server`). The names and
texts are the conformance suite's (its REQUIREMENTS §3); tools that ask the client for
input live in `asks.py`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Final

import anyio

from mcpkit.server import Audio, Context, EmbeddedText, Header, Image, Server, ToolError
from mcpkit.servers.everything.media import PNG, WAV

__all__ = ["JSON_SCHEMA_2020_12", "register"]

GAP: Final = 0.05  # seconds between log messages and progress steps (REQUIREMENTS: ~50 ms)
DYNAMIC_TOOL: Final = "test_dynamic_tool"
DYNAMIC_PROMPT: Final = "test_dynamic_prompt"

JSON_SCHEMA_2020_12: Final[dict[str, Any]] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "$anchor": "addressDef",
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        }
    },
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
        "phone": {"type": "string"},
        "email": {"type": "string"},
    },
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": False,
}


async def test_simple_text() -> str:
    """Returns a simple text response."""
    return "This is a simple text response for testing."


async def test_image_content() -> Image:
    """Returns a small PNG image."""
    return Image(PNG, mime_type="image/png")


async def test_audio_content() -> Audio:
    """Returns a short WAV tone."""
    return Audio(WAV, mime_type="audio/wav")


async def test_embedded_resource() -> EmbeddedText:
    """Returns an embedded text resource."""
    return EmbeddedText(
        "test://embedded-resource", "This is an embedded resource content.", "text/plain"
    )


async def test_multiple_content_types() -> list[str | Image | EmbeddedText]:
    """Returns text, an image and an embedded JSON resource in one result."""
    data = json.dumps({"test": "data", "value": 123}, separators=(",", ":"))
    return [
        "Multiple content types test:",
        Image(PNG, mime_type="image/png"),
        EmbeddedText("test://mixed-content-resource", data, "application/json"),
    ]


async def test_error_handling() -> str:
    """Always fails: the result has isError set."""
    raise ToolError("This tool intentionally returns an error for testing")


async def test_tool_with_logging(ctx: Context) -> str:
    """Sends three info log messages while it runs."""
    await ctx.info("Tool execution started")
    await anyio.sleep(GAP)
    await ctx.info("Tool processing data")
    await anyio.sleep(GAP)
    await ctx.info("Tool execution completed")
    return "Tool with logging executed successfully"


async def test_logging_tool(ctx: Context) -> str:
    """Tries to log; the client hears it only if it asked for logs."""
    await ctx.info("test_logging_tool was called")
    return "Logging attempted"


async def test_tool_with_progress(ctx: Context) -> str:
    """Reports progress 0, 50 and 100 of 100 (if the client asked for progress)."""
    for step in (0, 50, 100):
        if step:
            await anyio.sleep(GAP)
        await ctx.progress(step, 100)
    return "Progress complete"


async def json_schema_2020_12_tool(
    name: str | None = None,
    address: dict[str, Any] | None = None,
    contactMethod: str | None = None,  # the schema's own (camelCase) property name
    phone: str | None = None,
    email: str | None = None,
) -> str:
    """Tool with JSON Schema 2020-12 features"""
    given = {
        "name": name,
        "address": address,
        "contactMethod": contactMethod,
        "phone": phone,
        "email": email,
    }
    received = {key: value for key, value in given.items() if value is not None}
    return "Received: " + json.dumps(received, sort_keys=True)


async def test_custom_headers(
    region: Annotated[str, Header("Region", description="Where to route the call")],
) -> str:
    """Echoes a parameter that HTTP clients mirror into the Mcp-Param-Region header."""
    return f"Region: {region}"


def _change_triggers(server: Server) -> None:
    async def test_trigger_tool_change() -> str:
        """Adds or removes a tool, so clients hear tools/list_changed."""
        if DYNAMIC_TOOL in server.tools:
            server.remove_tool(DYNAMIC_TOOL)
            return f"Tool list changed: removed {DYNAMIC_TOOL}"
        server.add_tool(_dynamic_tool, name=DYNAMIC_TOOL)
        return f"Tool list changed: added {DYNAMIC_TOOL}"

    async def test_trigger_prompt_change() -> str:
        """Adds or removes a prompt, so clients hear prompts/list_changed."""
        if DYNAMIC_PROMPT in server.prompts:
            server.remove_prompt(DYNAMIC_PROMPT)
            return f"Prompt list changed: removed {DYNAMIC_PROMPT}"
        server.add_prompt(_dynamic_prompt, name=DYNAMIC_PROMPT)
        return f"Prompt list changed: added {DYNAMIC_PROMPT}"

    server.add_tool(test_trigger_tool_change)
    server.add_tool(test_trigger_prompt_change)


async def _dynamic_tool() -> str:
    """A tool added at runtime by test_trigger_tool_change."""
    return "I was added at runtime."


async def _dynamic_prompt() -> str:
    """A prompt added at runtime by test_trigger_prompt_change."""
    return "This prompt was added at runtime."


async def test_reconnection() -> str:
    """Answered by SSE polling over legacy HTTP: the POST stream closes after its priming
    event and the result arrives on the stream the client resumes with Last-Event-ID."""
    await anyio.sleep(0.5)
    return "Reconnection test completed: the result arrived on the resumed stream."


def _polls(request: dict[str, Any]) -> bool:
    params = request.get("params") or {}
    return request.get("method") == "tools/call" and params.get("name") == "test_reconnection"


def register(server: Server) -> None:
    """Add the plain tools to `server` (test_simple_text first: HTTP header checks call the
    first listed tool with no arguments)."""
    for tool in (
        test_simple_text,
        test_image_content,
        test_audio_content,
        test_embedded_resource,
        test_multiple_content_types,
        test_error_handling,
        test_tool_with_logging,
        test_logging_tool,
        test_tool_with_progress,
    ):
        server.add_tool(tool)
    server.add_tool(json_schema_2020_12_tool, input_schema=JSON_SCHEMA_2020_12)
    server.add_tool(test_custom_headers)
    server.add_tool(test_reconnection)
    server.sse_poll = _polls
    _change_triggers(server)
