"""The everything server against the conformance suite's expectations (REQUIREMENTS §3/§4).

Layer: tests. Every check runs in both eras; the broad ones also over both transports:
in-process memory and a real `python -m mcpkit server everything` subprocess on stdio.
Every frame either way is validated against the official schema of its version. The
expected names, texts and schemas are written out here literally, independently of the
server's own modules, so a typo on either side shows.
"""

from __future__ import annotations

import base64
import io
import json
import wave
from functools import partial
from typing import Any

import anyio
import msgspec
import pytest

from mcpkit.client import Client, EraChoice
from mcpkit.protocol.errors import (
    InvalidParams,
    MissingRequiredClientCapability,
    ResourceNotFound,
)
from mcpkit.protocol.events import ProgressReceived
from mcpkit.protocol.types import InputRequiredResult
from mcpkit.servers.everything import build
from tests.everything_harness import (
    ALL_CAPS,
    LOG_LEVEL,
    SUBSCRIPTION_ID,
    answer,
    check_png,
    connect,
    kind,
    only_asks,
    round_of,
    subset,
)

pytestmark = pytest.mark.anyio

IN_PROCESS = ("memory", "http-sse", "http-json")  # http-*: real uvicorn, SSE or JSON answers
EVERY = (*IN_PROCESS, "stdio")
OLD_SSE = [("legacy", "sse-legacy")]  # the 2024-11-05 HTTP+SSE transport: legacy era only
ERAS = pytest.mark.parametrize(
    ("era", "transport"), [(e, t) for e in ("legacy", "modern") for t in IN_PROCESS] + OLD_SSE
)
BOTH = pytest.mark.parametrize(
    ("era", "transport"), [(e, t) for e in ("legacy", "modern") for t in EVERY] + OLD_SSE
)
MODERN_BOTH = pytest.mark.parametrize("transport", EVERY)


# ---- the expected fixture ---------------------------------------------------------------

TOOLS = [
    "test_simple_text",
    "test_image_content",
    "test_audio_content",
    "test_embedded_resource",
    "test_multiple_content_types",
    "test_error_handling",
    "test_tool_with_logging",
    "test_logging_tool",
    "test_tool_with_progress",
    "json_schema_2020_12_tool",
    "test_custom_headers",
    "test_reconnection",
    "test_trigger_tool_change",
    "test_trigger_prompt_change",
    "test_sampling",
    "test_elicitation",
    "test_elicitation_sep1034_defaults",
    "test_elicitation_sep1330_enums",
    "test_missing_capability",
    "test_streaming_elicitation",
    "test_input_required_result_elicitation",
    "test_input_required_result_sampling",
    "test_input_required_result_list_roots",
    "test_input_required_result_request_state",
    "test_input_required_result_multiple_inputs",
    "test_input_required_result_multi_round",
    "test_input_required_result_tampered_state",
    "test_input_required_result_capabilities",
]

SCHEMA_2020_12: dict[str, Any] = {
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


def form(**properties: str) -> dict[str, Any]:
    props = {name: {"type": kind} for name, kind in properties.items()}
    return {"type": "object", "properties": props, "required": list(properties)}


def sampling(text: str, max_tokens: int) -> dict[str, Any]:
    content = {"type": "text", "text": text}
    return {"messages": [{"role": "user", "content": content}], "maxTokens": max_tokens}


Ask = tuple[str, dict[str, Any]]
NAME_ASK: Ask = (
    "elicitation/create",
    {"message": "What is your name?", "requestedSchema": form(name="string")},
)
CAPITAL_ASK: Ask = ("sampling/createMessage", sampling("What is the capital of France?", 100))
GREETING_ASK: Ask = ("sampling/createMessage", sampling("Generate a greeting", 50))
ROOTS_ASK: Ask = ("roots/list", {})
CONFIRM_ASK: Ask = (
    "elicitation/create",
    {"message": "Please confirm", "requestedSchema": form(ok="boolean")},
)

# tool -> (first round: key -> (method, params subset), text the final result contains)
ONE_ROUND: dict[str, tuple[dict[str, Ask], str]] = {
    "test_input_required_result_elicitation": ({"user_name": NAME_ASK}, "Hello, Ada!"),
    "test_input_required_result_sampling": ({"capital_question": CAPITAL_ASK}, "Paris"),
    "test_input_required_result_list_roots": ({"client_roots": ROOTS_ASK}, "file:///home/ada"),
    "test_input_required_result_request_state": ({"confirm": CONFIRM_ASK}, "state-ok"),
    "test_input_required_result_multiple_inputs": (
        {"user_name": NAME_ASK, "greeting": GREETING_ASK, "client_roots": ROOTS_ASK},
        "All inputs received: name=Ada, greeting=Hello there!, roots=1",
    ),
    "test_input_required_result_tampered_state": ({"confirm": CONFIRM_ASK}, "State verified"),
}


# ---- tools: listing and content ----------------------------------------------------------


@BOTH
async def test_tools_list(era: EraChoice, transport: str) -> None:
    async with connect(era, transport) as h:
        tools = await h.client.list_tools()
        assert [t.name for t in tools] == TOOLS  # test_simple_text first: HTTP checks use it
        assert all(t.description and t.input_schema["type"] == "object" for t in tools)
        by_name = {t.name: t for t in tools}
        assert by_name["json_schema_2020_12_tool"].input_schema == SCHEMA_2020_12
        assert by_name["json_schema_2020_12_tool"].description == (
            "Tool with JSON Schema 2020-12 features"
        )
        region = by_name["test_custom_headers"].input_schema["properties"]["region"]
        assert (region["type"], region["x-mcp-header"]) == ("string", "Region")
        assert by_name["test_sampling"].input_schema["required"] == ["prompt"]
        assert by_name["test_elicitation"].input_schema["required"] == ["message"]
        again = await h.client.list_tools()
        assert [t.name for t in again] == TOOLS  # a deterministic order


@BOTH
async def test_content_tools(era: EraChoice, transport: str) -> None:
    async with connect(era, transport) as h:
        simple = await h.call("test_simple_text")
        assert simple.text == "This is a simple text response for testing."
        image = (await h.call("test_image_content")).result.content[0]
        assert (kind(image), image.mime_type) == ("image", "image/png")
        check_png(base64.b64decode(image.data))
        audio = (await h.call("test_audio_content")).result.content[0]
        assert (kind(audio), audio.mime_type) == ("audio", "audio/wav")
        with wave.open(io.BytesIO(base64.b64decode(audio.data))) as sound:
            assert sound.getnframes() > 0
        embedded = (await h.call("test_embedded_resource")).result.content[0]
        assert kind(embedded) == "resource"
        assert embedded.resource == {
            "uri": "test://embedded-resource",
            "mimeType": "text/plain",
            "text": "This is an embedded resource content.",
        }
        mixed = (await h.call("test_multiple_content_types")).result.content
        assert [kind(block) for block in mixed] == ["text", "image", "resource"]
        assert mixed[0].text == "Multiple content types test:"
        assert mixed[1].mime_type == "image/png"
        assert mixed[2].resource["uri"] == "test://mixed-content-resource"
        assert mixed[2].resource["mimeType"] == "application/json"
        assert json.loads(mixed[2].resource["text"]) == {"test": "data", "value": 123}
        error = await h.call("test_error_handling")
        assert error.result.is_error is True
        assert error.text == "This tool intentionally returns an error for testing"


@BOTH
async def test_progress_and_schema_tool(era: EraChoice, transport: str) -> None:
    seen: list[tuple[float, float | None]] = []

    def progress(event: ProgressReceived) -> None:
        seen.append((event.progress, event.total))

    async with connect(era, transport) as h:
        done = await h.call("test_tool_with_progress", on_progress=progress)
        assert done.text == "Progress complete"
        if (era, transport) == ("modern", "http-json"):
            assert seen == []  # one JSON body per request carries the answer only
        else:  # (a legacy session's JSON mode sends them on the GET stream)
            assert seen == [(0, 100), (50, 100), (100, 100)]
        quiet = await h.call("test_tool_with_progress")  # no token: no progress, same result
        assert quiet.text == "Progress complete"
        assert len(seen) in (0, 3)
        echoed = await h.call(
            "json_schema_2020_12_tool", {"name": "Ada", "contactMethod": "email", "email": "a@b"}
        )
        assert echoed.text.startswith("Received: ")
        assert json.loads(echoed.text.removeprefix("Received: ")) == {
            "name": "Ada",
            "contactMethod": "email",
            "email": "a@b",
        }
        region = await h.call("test_custom_headers", {"region": "eu-west"})
        assert region.text == "Region: eu-west"


LOGS = ["Tool execution started", "Tool processing data", "Tool execution completed"]


@BOTH
async def test_logging_per_era(era: EraChoice, transport: str) -> None:
    async with connect(era, transport) as h:
        if era == "legacy":  # session default: info and above
            await h.call("test_tool_with_logging")
            logs = await h.wait_for("notifications/message", 3)
            assert [(p.level, p.data) for p in logs] == [("info", text) for text in LOGS]
            return
        await h.call("test_tool_with_logging")
        await h.call("test_logging_tool")
        assert h.heard("notifications/message") == []  # no logLevel in _meta: no logs
        await h.call("test_tool_with_logging", meta={LOG_LEVEL: "info"})
        await h.call("test_logging_tool", meta={LOG_LEVEL: "warning"})  # below the threshold
        logs = h.heard("notifications/message")
        if transport == "http-json":  # one JSON body per request carries the answer only
            assert logs == []
            return
        assert [(p.level, p.data) for p in logs] == [("info", text) for text in LOGS]
        await h.call("test_logging_tool", meta={LOG_LEVEL: "debug"})
        assert h.heard("notifications/message")[-1].data == "test_logging_tool was called"


# ---- asking the client: legacy fixtures in both eras -------------------------------------


@BOTH
async def test_sampling_and_elicitation_fixtures(era: EraChoice, transport: str) -> None:
    async with connect(era, transport) as h:
        sampled = await h.call("test_sampling", {"prompt": "Test prompt"})
        assert sampled.text == "LLM response: echo: Test prompt"
        ((method, params),) = only_asks(sampled)
        assert method == "sampling/createMessage"
        assert subset(params, sampling("Test prompt", 100))
        elicited = await h.call("test_elicitation", {"message": "Who are you?"})
        assert elicited.text == (
            'User response: action=accept, content={"email": "ada@example.com", "username": "ada"}'
        )
        ((method, params),) = only_asks(elicited)
        assert (method, params["message"]) == ("elicitation/create", "Who are you?")
        assert params["requestedSchema"]["required"] == ["username", "email"]
        assert set(params["requestedSchema"]["properties"]) == {"username", "email"}


@ERAS
async def test_elicitation_defaults_and_enums(era: EraChoice, transport: str) -> None:
    async with connect(era, transport) as h:
        defaults = await h.call("test_elicitation_sep1034_defaults")
        assert defaults.text.startswith("Elicitation completed: action=accept, content=")
        ((_, params),) = only_asks(defaults)
        props = params["requestedSchema"]["properties"]
        assert {name: prop["default"] for name, prop in props.items()} == {
            "name": "John Doe",
            "age": 30,
            "score": 95.5,
            "status": "active",
            "verified": True,
        }
        assert (props["age"]["type"], props["score"]["type"]) == ("integer", "number")
        assert props["status"]["enum"] == ["active", "inactive", "pending"]
        enums = await h.call("test_elicitation_sep1330_enums")
        assert enums.text.startswith("Elicitation completed: action=accept, content=")
        ((_, params),) = only_asks(enums)
        props = params["requestedSchema"]["properties"]
        assert props["untitledSingle"] == {
            "type": "string",
            "enum": ["option1", "option2", "option3"],
        }
        assert props["titledSingle"]["oneOf"][0] == {"const": "value1", "title": "First Option"}
        assert props["legacyEnum"]["enumNames"] == ["Option One", "Option Two", "Option Three"]
        assert props["untitledMulti"]["items"]["enum"] == ["option1", "option2", "option3"]
        assert props["titledMulti"]["items"]["anyOf"][0] == {
            "const": "value1",
            "title": "First Choice",
        }


# ---- MRTR, round by round ----------------------------------------------------------------


@MODERN_BOTH
@pytest.mark.parametrize("tool", list(ONE_ROUND))
async def test_input_required_oneround_of(transport: str, tool: str) -> None:
    expected, final = ONE_ROUND[tool]
    async with connect("modern", transport) as h:
        first = await h.client.request("tools/call", {"name": tool, "arguments": {}})
        assert isinstance(first, InputRequiredResult)
        assert first.result_type == "input_required"
        assert isinstance(first.request_state, str) and first.request_state
        asks = round_of(first)
        assert set(asks) == set(expected)  # every ask in this one round
        for key, (method, params) in expected.items():
            assert asks[key][0] == method
            assert subset(asks[key][1], params), (key, asks[key][1])
        done = await h.call(tool)
        assert len(done.rounds) == 1
        assert final in done.text
        assert h.asked == []  # modern: never a server->client request


@ERAS
async def test_input_required_tools_work_in_both_eras(era: EraChoice, transport: str) -> None:
    async with connect(era, transport) as h:
        for tool, (expected, final) in ONE_ROUND.items():
            done = await h.call(tool)
            assert final in done.text, tool
            assert sorted(m for m, _ in only_asks(done)) == sorted(m for m, _ in expected.values())
        assert (await h.call("test_streaming_elicitation")).text == "Confirmed."
        rounds = await h.call("test_input_required_result_multi_round")
        assert rounds.text == "Multi-round complete: Ada likes blue."
        prompt = await h.call("test_input_required_result_prompt", method="prompts/get")
        assert prompt.result.messages[0].content.text.endswith("in mind: testing")


@MODERN_BOTH
async def test_multi_round_changes_state(transport: str) -> None:
    async with connect("modern", transport) as h:
        done = await h.call("test_input_required_result_multi_round")
        assert [list(r) for r in done.rounds] == [["step1"], ["step2"]]
        assert done.rounds[0]["step1"] == (
            "elicitation/create",
            {
                "mode": "form",
                "message": "Step 1: What is your name?",
                "requestedSchema": form(name="string"),
            },
        )
        step2 = done.rounds[1]["step2"][1]
        assert step2["message"] == "Step 2: What is your favorite color?"
        assert step2["requestedSchema"] == form(color="string")
        assert done.text == "Multi-round complete: Ada likes blue."
        params: dict[str, Any] = {"name": "test_input_required_result_multi_round"}
        one = await h.client.request("tools/call", params)
        answers = {"step1": answer(*NAME_ASK)}
        two = await h.client.request(
            "tools/call", {**params, "inputResponses": answers, "requestState": one.request_state}
        )
        assert isinstance(two, InputRequiredResult)
        assert two.request_state != one.request_state


@MODERN_BOTH
async def test_prompt_input_required(transport: str) -> None:
    async with connect("modern", transport) as h:
        params = {"name": "test_input_required_result_prompt"}
        first = await h.client.request("prompts/get", params)
        assert isinstance(first, InputRequiredResult)
        ((method, ask),) = round_of(first).values()
        assert list(round_of(first)) == ["user_context"]
        assert method == "elicitation/create"
        assert ask["message"] == "What context should the prompt use?"
        assert ask["requestedSchema"] == form(context="string")
        done = await h.call("test_input_required_result_prompt", method="prompts/get")
        assert done.result.messages[0].content.text.endswith("in mind: testing")


async def test_tampered_and_invalid_state_and_answers() -> None:
    async with connect("modern") as h:
        tool = {"name": "test_input_required_result_tampered_state", "arguments": {}}
        first = await h.client.request("tools/call", tool)
        state = first.request_state
        tampered = state[:-3] + ("A" if state[-3] != "A" else "B") + state[-2:]
        good = {"confirm": answer(*CONFIRM_ASK)}
        with pytest.raises(InvalidParams):
            await h.client.request(
                "tools/call", {**tool, "inputResponses": good, "requestState": tampered}
            )
        ok = await h.client.request(
            "tools/call", {**tool, "inputResponses": good, "requestState": state}
        )
        assert ok.content[0].text.startswith("State verified")
        greet = {"name": "test_input_required_result_elicitation"}
        wrong = await h.client.request(
            "tools/call", {**greet, "inputResponses": {"wrong_key": answer(*NAME_ASK)}}
        )
        assert isinstance(wrong, InputRequiredResult)  # asks again, no error
        assert list(round_of(wrong)) == ["user_name"]
        extra = {"user_name": answer(*NAME_ASK), "unexpected": {"roots": []}}
        done = await h.client.request("tools/call", {**greet, "inputResponses": extra})
        assert done.content[0].text == "Hello, Ada!"


async def test_garbage_answers_are_invalid_params() -> None:
    # The request breaks the schema on purpose, so this one connection is not refereed.
    async with Client(build(), era="modern", capabilities=ALL_CAPS) as client:
        greet = {"name": "test_input_required_result_elicitation"}
        with pytest.raises(InvalidParams):
            await client.request("tools/call", {**greet, "inputResponses": {"user_name": 42}})
        wrong_shape = {"user_name": {"roots": "not a list"}}
        with pytest.raises(InvalidParams):
            await client.request("tools/call", {**greet, "inputResponses": wrong_shape})


async def test_request_state_must_come_back() -> None:
    async with connect("modern") as h:
        tool = {"name": "test_input_required_result_request_state"}
        answers = {"confirm": answer(*CONFIRM_ASK)}
        lost = await h.client.request("tools/call", {**tool, "inputResponses": answers})
        assert lost.is_error is True
        assert "state-ok" not in lost.content[0].text


async def test_streaming_elicitation_sends_no_requests() -> None:
    async with connect("modern", capabilities={"elicitation": {}}) as h:
        first = await h.client.request("tools/call", {"name": "test_streaming_elicitation"})
        assert isinstance(first, InputRequiredResult)
        assert [m for m, _ in round_of(first).values()] == ["elicitation/create"]
        assert h.asked == []
        assert (await h.call("test_streaming_elicitation")).text == "Confirmed."


# ---- capabilities ------------------------------------------------------------------------


@MODERN_BOTH
async def test_missing_capability_modern(transport: str) -> None:
    async with connect("modern", transport, capabilities={"elicitation": {}}) as h:
        with pytest.raises(MissingRequiredClientCapability) as info:
            await h.client.request("tools/call", {"name": "test_missing_capability"})
        assert info.value.code == -32021
        assert info.value.data == {"requiredCapabilities": {"sampling": {}}}
    async with connect("modern", transport) as h:
        done = await h.call("test_missing_capability")
        assert done.text == "Sampling is available: echo: Say hello"


async def test_missing_capability_legacy() -> None:
    async with connect("legacy", capabilities={}) as h:
        refused = await h.call("test_missing_capability")
        assert refused.result.is_error is True
        assert "sampling" in refused.text
    async with connect("legacy") as h:
        assert (await h.call("test_missing_capability")).text.startswith("Sampling is available")


@ERAS
async def test_asks_only_for_declared_capabilities(era: EraChoice, transport: str) -> None:
    tool = "test_input_required_result_capabilities"
    async with connect(era, transport, capabilities={"sampling": {}}) as h:
        done = await h.call(tool)
        assert [m for m, _ in only_asks(done)] == ["sampling/createMessage"]
        assert done.text == "Asked only for declared capabilities: sampling"
    async with connect(era, transport, capabilities={}) as h:
        nothing = await h.call(tool)
        assert nothing.rounds == []
        assert "nothing to ask" in nothing.text
    async with connect(era, transport) as h:
        everything = await h.call(tool)
        assert len(only_asks(everything)) == 3


# ---- list changes ------------------------------------------------------------------------


@pytest.mark.parametrize("transport", [*EVERY, "sse-legacy"])
async def test_list_changed_legacy(transport: str) -> None:
    async with connect("legacy", transport) as h:
        added = await h.call("test_trigger_tool_change")
        assert added.text == "Tool list changed: added test_dynamic_tool"
        await h.wait_for("notifications/tools/list_changed")
        assert "test_dynamic_tool" in [t.name for t in await h.client.list_tools()]
        assert (await h.call("test_dynamic_tool")).text == "I was added at runtime."
        await h.call("test_trigger_tool_change")
        await h.wait_for("notifications/tools/list_changed", 2)
        assert "test_dynamic_tool" not in [t.name for t in await h.client.list_tools()]
        await h.call("test_trigger_prompt_change")
        await h.wait_for("notifications/prompts/list_changed")
        listed = await h.client.request("prompts/list")
        assert "test_dynamic_prompt" in [p.name for p in listed.prompts]


# settle_listener: the server sends the acknowledgement before it starts listening to
# changes, so a change made the moment the ack arrives can be missed (a framework race,
# reported). One round trip after the ack lets the listening task catch up first.


@MODERN_BOTH
async def test_list_changed_modern_listeners(transport: str) -> None:
    async with connect("modern", transport) as h, anyio.create_task_group() as tg:
        filters = {"notifications": {"promptsListChanged": True}}
        tg.start_soon(partial(h.client.request, "subscriptions/listen", filters))
        (ack,) = await h.wait_for("notifications/subscriptions/acknowledged")
        await h.client.ping()  # see settle_listener
        sub_id = ack.meta[SUBSCRIPTION_ID]
        await h.call("test_trigger_tool_change")  # not asked for: must not arrive
        await h.call("test_trigger_prompt_change")
        (change,) = await h.wait_for("notifications/prompts/list_changed")
        assert change.meta[SUBSCRIPTION_ID] == sub_id
        assert h.heard("notifications/tools/list_changed") == []
        tg.cancel_scope.cancel()
    async with connect("modern", transport) as h, anyio.create_task_group() as tg:
        filters = {"notifications": {"toolsListChanged": True}}
        tg.start_soon(partial(h.client.request, "subscriptions/listen", filters))
        await h.wait_for("notifications/subscriptions/acknowledged")
        await h.client.ping()  # see settle_listener
        await h.call("test_trigger_tool_change")
        (change,) = await h.wait_for("notifications/tools/list_changed")
        assert SUBSCRIPTION_ID in change.meta
        tg.cancel_scope.cancel()


# ---- resources, prompts, completion -------------------------------------------------------


@BOTH
async def test_resources(era: EraChoice, transport: str) -> None:
    async with connect(era, transport) as h:
        listed = (await h.client.request("resources/list")).resources
        assert [r.uri for r in listed] == [
            "test://static-text",
            "test://static-binary",
            "test://watched-resource",
        ]
        assert all(r.name and r.description for r in listed)
        text = (await h.client.request("resources/read", {"uri": "test://static-text"})).contents
        assert text == [
            {
                "uri": "test://static-text",
                "mimeType": "text/plain",
                "text": "This is the content of the static text resource.",
            }
        ]
        blob = (await h.client.request("resources/read", {"uri": "test://static-binary"})).contents
        assert blob[0]["mimeType"] == "image/png"
        check_png(base64.b64decode(blob[0]["blob"]))
        templates = (await h.client.request("resources/templates/list")).resource_templates
        assert [t.uri_template for t in templates] == ["test://template/{id}/data"]
        read = await h.client.request("resources/read", {"uri": "test://template/123/data"})
        (item,) = read.contents
        assert (item["uri"], item["mimeType"]) == ("test://template/123/data", "application/json")
        assert json.loads(item["text"]) == {
            "id": "123",
            "templateTest": True,
            "data": "Data for ID: 123",
        }
        if era == "modern":
            assert isinstance(read.ttl_ms, int) and read.cache_scope in ("public", "private")


@ERAS
async def test_unknown_resource_and_subscriptions(era: EraChoice, transport: str) -> None:
    uri = "test://nonexistent-resource-for-conformance-testing"
    expected = InvalidParams if era == "modern" else ResourceNotFound
    async with connect(era, transport) as h:
        with pytest.raises(expected) as info:
            await h.client.request("resources/read", {"uri": uri})
        assert info.value.code == (-32602 if era == "modern" else -32002)
        assert info.value.data == {"uri": uri}
        if era == "legacy":  # modern has subscriptions/listen instead
            watched = {"uri": "test://watched-resource"}
            for method in ("resources/subscribe", "resources/unsubscribe"):
                empty = await h.client.request(method, watched)
                assert msgspec.to_builtins(empty) == {}


@BOTH
async def test_prompts(era: EraChoice, transport: str) -> None:
    async with connect(era, transport) as h:
        listed = (await h.client.request("prompts/list")).prompts
        assert [p.name for p in listed] == [
            "test_simple_prompt",
            "test_prompt_with_arguments",
            "test_prompt_with_embedded_resource",
            "test_prompt_with_image",
            "test_input_required_result_prompt",
        ]
        with_args = next(p for p in listed if p.name == "test_prompt_with_arguments")
        assert [(a.name, a.required) for a in with_args.arguments] == [
            ("arg1", True),
            ("arg2", True),
        ]

        async def get(name: str, **arguments: str) -> list[Any]:
            params = {"name": name, "arguments": arguments}
            return list((await h.client.request("prompts/get", params)).messages)

        (simple,) = await get("test_simple_prompt")
        assert (simple.role, simple.content.text) == (
            "user",
            "This is a simple prompt for testing.",
        )
        (args,) = await get("test_prompt_with_arguments", arg1="hello", arg2="world")
        assert args.content.text == "Prompt with arguments: arg1='hello', arg2='world'"
        resource, after = await get("test_prompt_with_embedded_resource", resourceUri="test://x")
        assert kind(resource.content) == "resource"
        assert resource.content.resource == {
            "uri": "test://x",
            "mimeType": "text/plain",
            "text": "Embedded resource content for testing.",
        }
        assert after.content.text == "Please process the embedded resource above."
        image, caption = await get("test_prompt_with_image")
        assert (kind(image.content), image.content.mime_type) == ("image", "image/png")
        check_png(base64.b64decode(image.content.data))
        assert caption.content.text == "Please analyze the image above."
        with pytest.raises(InvalidParams):
            await get("test_prompt_with_arguments", arg1="only one")


@ERAS
async def test_completion(era: EraChoice, transport: str) -> None:
    async with connect(era, transport) as h:

        async def complete(ref: dict[str, str], name: str, value: str) -> list[str]:
            params = {"ref": ref, "argument": {"name": name, "value": value}}
            return list((await h.client.request("completion/complete", params)).completion.values)

        prompt = {"type": "ref/prompt", "name": "test_prompt_with_arguments"}
        assert await complete(prompt, "arg1", "he") == ["hello", "help"]
        assert await complete(prompt, "arg2", "") == ["world", "word", "work"]
        template = {"type": "ref/resource", "uri": "test://template/{id}/data"}
        assert await complete(template, "id", "4") == ["456"]
