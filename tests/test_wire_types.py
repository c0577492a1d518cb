"""Tests of the generated wire types (``mcpkit.protocol.types``) against the official schemas."""

from __future__ import annotations

import copy
import functools
import inspect
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import utils as conjecture_utils
from hypothesis_jsonschema import _from_schema as from_schema_module
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator

import mcpkit.protocol.types as wire
from mcpkit.protocol.types import versions

ROOT = Path(__file__).resolve().parent.parent
SPEC = Path(os.environ.get("MCPKIT_SPEC_DIR") or ROOT / "tests" / "spec")
VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28")
LATEST = VERSIONS[-1]
HAVE_SPEC = all((SPEC / v / "schema.json").is_file() for v in VERSIONS)
needs_spec = pytest.mark.skipif(not HAVE_SPEC, reason=f"MCP schemas not found under {SPEC}")

# Constructs the hypothesis test leaves out, with why. All of them are still covered by
# test_every_construct_round_trips (and InputRequiredResult by a hand-written example).
OPEN_OBJECT = "open object (additionalProperties: {}): a Struct keeps only the declared keys"
SLOW = "nested sampling content unions: seconds per example in hypothesis-jsonschema"
PROPERTY_SKIPS = {
    "Result": OPEN_OBJECT,
    "EmptyResult": OPEN_OBJECT,
    "CreateMessageRequest": SLOW,
    "CreateMessageRequestParams": SLOW,
    "CreateMessageResult": SLOW,
    "InputRequiredResult": SLOW,
    "SamplingMessage": SLOW,
}


@functools.cache
def schema_doc(version: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((SPEC / version / "schema.json").read_text("utf-8"))
    return doc


def defs_of(version: str) -> dict[str, Any]:
    doc = schema_doc(version)
    defs: dict[str, Any] = doc.get("$defs") or doc["definitions"]
    return defs


@functools.cache
def validator(version: str, name: str) -> Draft202012Validator:
    """Validates against definition ``name`` of the whole official schema document."""
    doc = {k: v for k, v in schema_doc(version).items() if k != "$schema"}
    key = "$defs" if "$defs" in doc else "definitions"
    return Draft202012Validator({**doc, "$ref": f"#/{key}/{name}"})


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def assert_round_trip(version: str, name: str, instance: Any) -> Any:
    """``instance`` is valid for ``name`` and survives decode -> encode unchanged."""
    validator(version, name).validate(instance)
    decoded = msgspec.json.decode(json.dumps(instance).encode(), type=getattr(wire, name))
    assert canonical(json.loads(msgspec.json.encode(decoded))) == canonical(instance)
    return decoded


class Synth:
    """Builds a deterministic instance of a schema: required keys only, or every key."""

    def __init__(self, version: str, full: bool) -> None:
        self.defs = defs_of(version)
        self.full = full
        self.pick = -1 if full else 0

    def value(self, schema: dict[str, Any], depth: int = 0) -> Any:
        while "$ref" in schema:
            schema = self.defs[schema["$ref"].rsplit("/", 1)[-1]]
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for member in schema["allOf"]:
                merged.update(self.value(member, depth))
            return merged
        members = schema.get("anyOf") or schema.get("oneOf")
        if members:
            return self.value(members[self.pick], depth + 1)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][self.pick]
        return self.typed(schema, depth)

    def typed(self, schema: dict[str, Any], depth: int) -> Any:
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = kind[self.pick]
        if kind == "object" or "properties" in schema:
            return self.object(schema, depth)
        if kind == "array":
            count = 1 if (self.full and depth < 6) or schema.get("minItems") else 0
            return [self.value(schema.get("items", {}), depth + 1) for _ in range(count)]
        formats = {
            "uri": "https://example.com/a",
            "byte": "aGVsbG8=",
            "date-time": "2025-01-02T03:04:05Z",
        }
        scalars: dict[Any, Any] = {
            "string": formats.get(schema.get("format", ""), "text"),
            "integer": max(1, schema.get("minimum", 1)),
            "number": 0.5,
            "boolean": True,
            "null": None,
        }
        if kind in scalars:
            return scalars[kind]
        return {"free": [1, "two", 3.5, None, {"x": False}]} if self.full else "any"

    def object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        props: dict[str, Any] = schema.get("properties", {})
        wanted = list(props) if self.full and depth < 6 else schema.get("required", [])
        out = {k: self.value(props.get(k, {}), depth + 1) for k in wanted}
        extra = schema.get("additionalProperties")
        if self.full and not props and isinstance(extra, dict) and depth < 6:
            out["someKey"] = self.value(extra, depth + 1)
        return out


def exported(name: str) -> bool:
    return name in wire.__all__


CONSTRUCT_CASES = [
    (name, version)
    for version in (VERSIONS if HAVE_SPEC else ())
    for name in sorted(defs_of(version))
    if exported(name)
]


@needs_spec
def test_generated_output_is_current() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_wire_types.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "MCPKIT_SPEC_DIR": str(SPEC)},
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_generated_package_is_ruff_clean() -> None:
    package = ROOT / "src" / "mcpkit" / "protocol" / "types"
    for args in (["check"], ["format", "--check"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *args, str(package)],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
        )
        assert done.returncode == 0, done.stdout + done.stderr


@needs_spec
@pytest.mark.parametrize("full", [False, True], ids=["required", "full"])
@pytest.mark.parametrize(("name", "version"), CONSTRUCT_CASES)
def test_every_construct_round_trips(name: str, version: str, full: bool) -> None:
    instance = Synth(version, full).value(defs_of(version)[name])
    assert_round_trip(version, name, instance)


ENVELOPES = {
    "JSONRPCRequest",
    "JSONRPCNotification",
    "JSONRPCResponse",
    "JSONRPCResultResponse",
    "JSONRPCErrorResponse",
    "JSONRPCError",
    "JSONRPCMessage",
    "JSONRPCBatchRequest",
    "JSONRPCBatchResponse",
    "ParseError",
    "InvalidRequestError",
    "MethodNotFoundError",
    "InvalidParamsError",
    "InternalError",
    "HeaderMismatchError",
    "MissingRequiredClientCapabilityError",
    "UnsupportedProtocolVersionError",
    "URLElicitationRequiredError",
    "ClientRequest",
    "ServerRequest",
    "ClientNotification",
    "ServerNotification",
    "ClientResult",
    "ServerResult",
}


def test_every_schema_construct_is_exported_except_envelopes() -> None:
    missing = {n for n in versions.CONSTRUCT_VERSIONS if not exported(n)}
    responses = {n for n in missing if n.endswith("ResultResponse")}
    assert missing == ENVELOPES | responses
    assert not ENVELOPES & set(wire.__all__)
    assert "Error" in wire.__all__


def test_struct_options() -> None:
    candidates = [getattr(wire, n) for n in wire.__all__]
    structs = [t for t in candidates if isinstance(t, type) and issubclass(t, msgspec.Struct)]
    assert len(structs) > 100
    for struct in structs:
        config = struct.__struct_config__
        assert config.frozen, struct
        assert config.omit_defaults, struct
        params = inspect.signature(struct).parameters.values()
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params), struct


def test_tags_and_field_names() -> None:
    assert wire.TextContent.__struct_config__.tag_field == "type"
    assert wire.TextContent.__struct_config__.tag == "text"
    assert wire.ElicitRequest.__struct_config__.tag_field == "method"
    fields = {f.name: f.encode_name for f in msgspec.structs.fields(wire.CallToolResult)}
    assert fields["meta"] == "_meta"
    assert fields["structured_content"] == "structuredContent"
    tasks = {f.name: f.encode_name for f in msgspec.structs.fields(wire.ClientCapabilitiesTasks)}
    assert tasks["list_"] == "list"


def test_missing_tag_is_accepted_standalone_but_not_in_a_union() -> None:
    text = msgspec.json.decode(b'{"text": "hi"}', type=wire.TextContent)
    assert json.loads(msgspec.json.encode(text)) == {"type": "text", "text": "hi"}
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"text": "hi"}', type=wire.ContentBlock)
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"type": "image", "text": "hi"}', type=wire.TextContent)


def test_explicit_null_and_absent_stay_distinct() -> None:
    error = msgspec.json.decode(b'{"code": 1, "message": "m", "data": null}', type=wire.Error)
    assert error.data is None
    assert msgspec.json.encode(error) == b'{"code":1,"message":"m","data":null}'
    bare = msgspec.json.decode(b'{"code": 1, "message": "m"}', type=wire.Error)
    assert bare.data is msgspec.UNSET
    assert msgspec.json.encode(bare) == b'{"code":1,"message":"m"}'


def test_versions_tables() -> None:
    assert versions.METHOD_VERSIONS["initialize"] == frozenset(VERSIONS[:4])
    assert versions.METHOD_VERSIONS["server/discover"] == frozenset({LATEST})
    assert versions.METHOD_VERSIONS["tools/call"] == frozenset(VERSIONS)
    assert versions.CONSTRUCT_VERSIONS["InputRequiredResult"] == frozenset({LATEST})
    assert versions.CONSTRUCT_VERSIONS["Tool"] == frozenset(VERSIONS)


def test_extension_modules_import() -> None:
    from mcpkit.protocol.types.extensions import apps, apps_host, apps_initialize, tasks

    task = msgspec.json.decode(
        b'{"taskId": "t1", "status": "working", "createdAt": "a", "lastUpdatedAt": "b",'
        b' "ttlMs": null}',
        type=tasks.Task,
    )
    assert task.ttl_ms is None
    assert apps.McpUiOpenLinkRequest.__struct_config__.tag == "ui/open-link"
    assert apps_host.McpUiHostContext is not None
    assert apps_initialize.McpUiInitializeResult is not None


CLIENT_INFO = {"name": "demo-client", "title": "Demo", "version": "1.4.0"}


@needs_spec
def test_initialize_2025_11_25() -> None:
    params = {
        "protocolVersion": "2025-11-25",
        "capabilities": {
            "roots": {"listChanged": True},
            "sampling": {"tools": {}},
            "elicitation": {"form": {}, "url": {}},
            "experimental": {"acme/feature": {"on": True}},
        },
        "clientInfo": {
            **CLIENT_INFO,
            "icons": [{"src": "https://x.test/i.png", "sizes": ["48x48"]}],
        },
        "_meta": {"progressToken": "init-1"},
    }
    decoded = assert_round_trip("2025-11-25", "InitializeRequestParams", params)
    assert isinstance(decoded.capabilities.elicitation, wire.ClientCapabilitiesElicitation)
    assert decoded.meta == {"progressToken": "init-1"}
    result = {
        "protocolVersion": "2025-11-25",
        "capabilities": {
            "logging": {},
            "completions": {},
            "prompts": {"listChanged": True},
            "resources": {"subscribe": True, "listChanged": False},
            "tools": {"listChanged": True},
            "tasks": {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}},
        },
        "serverInfo": {"name": "demo-server", "version": "0.9.1", "websiteUrl": "https://x.test"},
        "instructions": "Call `search` first.",
    }
    decoded = assert_round_trip("2025-11-25", "InitializeResult", result)
    assert decoded.capabilities.tasks.list_ == {}
    assert decoded.server_info.website_url == "https://x.test"


@needs_spec
def test_call_tool_request_params_2026_meta_keys() -> None:
    params = {
        "name": "get_weather",
        "arguments": {"city": "Oslo", "days": 3, "units": None, "nested": {"a": [1, 2.5]}},
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {"sampling": {"tools": {}}},
            "io.modelcontextprotocol/clientInfo": CLIENT_INFO,
            "io.modelcontextprotocol/logLevel": "warning",
            "progressToken": 7,
            "com.example/trace": "abc",
        },
        "requestState": "opaque-state",
        "inputResponses": {"q1": {"action": "accept", "content": {"ok": True, "n": 2}}},
    }
    decoded = assert_round_trip(LATEST, "CallToolRequestParams", params)
    assert decoded.meta["io.modelcontextprotocol/logLevel"] == "warning"
    assert decoded.arguments["units"] is None


@needs_spec
def test_call_tool_result_mixed_content() -> None:
    result = {
        "resultType": "complete",
        "content": [
            {"type": "text", "text": "It is sunny.", "annotations": {"audience": ["user"]}},
            {"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"},
            {
                "type": "resource",
                "resource": {"uri": "file:///w.json", "mimeType": "application/json", "text": "{}"},
                "_meta": {"com.example/x": 1},
            },
        ],
        "structuredContent": {"temperature": 21.5, "conditions": ["sunny"], "alert": None},
        "isError": False,
    }
    decoded = assert_round_trip(LATEST, "CallToolResult", result)
    kinds = [type(block) for block in decoded.content]
    assert kinds == [wire.TextContent, wire.ImageContent, wire.EmbeddedResource]


@needs_spec
def test_input_required_result_all_request_kinds() -> None:
    result = {
        "resultType": "input_required",
        "requestState": "s-1",
        "inputRequests": {
            "llm": {
                "method": "sampling/createMessage",
                "params": {
                    "messages": [{"role": "user", "content": {"type": "text", "text": "Sum?"}}],
                    "maxTokens": 64,
                    "modelPreferences": {"hints": [{"name": "small"}], "speedPriority": 1},
                },
            },
            "roots": {"method": "roots/list"},
            "ask": {
                "method": "elicitation/create",
                "params": {
                    "mode": "form",
                    "message": "Which unit?",
                    "requestedSchema": {
                        "type": "object",
                        "properties": {
                            "unit": {"type": "string", "enum": ["C", "F"], "title": "Unit"},
                            "days": {"type": "integer", "minimum": 1, "maximum": 7},
                        },
                        "required": ["unit"],
                    },
                },
            },
        },
    }
    decoded = assert_round_trip(LATEST, "InputRequiredResult", result)
    kinds = {key: type(value) for key, value in decoded.input_requests.items()}
    assert kinds == {
        "llm": wire.CreateMessageRequest,
        "roots": wire.ListRootsRequest,
        "ask": wire.ElicitRequest,
    }


@needs_spec
def test_tool_input_schema_survives_verbatim() -> None:
    input_schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {"unit": {"enum": ["C", "F"]}},
        "properties": {
            "city": {"type": "string", "minLength": 1},
            "unit": {"$ref": "#/$defs/unit"},
            "when": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
            "mode": {"type": "string"},
        },
        "if": {"properties": {"mode": {"const": "range"}}},
        "then": {"required": ["when"]},
        "else": {"not": {"required": ["when"]}},
        "additionalProperties": False,
        "required": ["city"],
    }
    tool = {
        "name": "forecast",
        "title": "Forecast",
        "description": "Weather forecast.",
        "inputSchema": input_schema,
        "outputSchema": {"type": "object", "additionalProperties": {"type": "number"}},
        "annotations": {"readOnlyHint": True, "openWorldHint": True},
        "icons": [{"src": "https://x.test/t.svg", "mimeType": "image/svg+xml", "theme": "dark"}],
    }
    decoded = assert_round_trip(LATEST, "Tool", tool)
    assert decoded.input_schema == input_schema
    assert list(decoded.input_schema) == list(input_schema)


def closed(node: Any) -> Any:
    """A generation copy of a schema: closed objects, no formats, integers within 2**53.

    Open maps and arrays get at most 2 entries, to keep generation fast.
    """
    if isinstance(node, list):
        return [closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: closed(v) for k, v in node.items() if k != "format"}
    if "properties" in node and isinstance(node["properties"], dict):
        out["properties"] = {k: closed(v) for k, v in node["properties"].items()}
        out.setdefault("additionalProperties", False)
    if out.get("type") == "object":
        out.setdefault("additionalProperties", False)
    if isinstance(out.get("additionalProperties"), dict):
        out.setdefault("maxProperties", 2)
    if out.get("type") == "array":
        out.setdefault("maxItems", 2)
    if out.get("type") == "integer":
        out.setdefault("minimum", -(2**53))
        out.setdefault("maximum", 2**53)
    return out


@functools.cache
def generation_defs() -> dict[str, Any]:
    """The 2026 definitions made generator-friendly.

    Definitions the Python types keep as an opaque ``dict[str, Any]`` (``_meta`` objects,
    untagged unions, ``JSONObject``) are drawn from two fixed valid samples instead: their
    inner shape cannot affect a round trip, and generating it dominates the run time.
    """
    defs: dict[str, Any] = closed(copy.deepcopy(defs_of(LATEST)))
    for name in defs:
        if exported(name) and getattr(wire, name) == dict[str, Any]:
            samples = [Synth(LATEST, full).value(defs_of(LATEST)[name]) for full in (False, True)]
            defs[name] = {"enum": samples}
    leaf = {"type": ["string", "integer", "boolean"], "maximum": 2**53, "minimum": -(2**53)}
    defs["JSONValue"] = {"anyOf": [leaf, {"type": "array", "items": leaf, "maxItems": 3}]}
    return defs


class LegacyMany:
    """``many.more()`` for hypothesis-jsonschema 0.23 on a Hypothesis whose ``many`` lacks it.

    Newer Hypothesis only supports ``with many(...) as m: for _ in m:``; this drives that
    protocol one step per ``more()`` call, which is exactly how the old method was used.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._many = conjecture_utils.many(*args, **kwargs)
        self._steps: Iterator[None] | None = None

    def more(self) -> bool:
        if self._steps is None:
            self._steps = iter(self._many.__enter__())
        if next(self._steps, False) is None:
            return True
        self._many.__exit__(None)
        return False

    def reject(self, why: str | None = None) -> None:
        self._many.reject(why)


@pytest.fixture(scope="module")
def hypothesis_jsonschema_compat() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        if not hasattr(conjecture_utils.many, "more"):
            patch.setattr(from_schema_module, "cu", SimpleNamespace(many=LegacyMany))
        yield


def reachable(name: str, defs: dict[str, Any]) -> dict[str, Any]:
    """The definitions ``name`` refers to, transitively (hypothesis-jsonschema resolves all)."""
    found: dict[str, Any] = {}
    stack = [name]
    while stack:
        current = stack.pop()
        if current not in found:
            found[current] = defs[current]
            text = json.dumps(defs[current])
            stack += [ref.split('"', 1)[0] for ref in text.split('"#/$defs/')[1:]]
    return found


@functools.cache
def strategy(name: str) -> st.SearchStrategy[Any]:
    defs = reachable(name, generation_defs())
    strat: st.SearchStrategy[Any] = from_schema({"$ref": f"#/$defs/{name}", "$defs": defs})
    return strat


PROPERTY_CASES = [
    name
    for name in (sorted(defs_of(LATEST)) if HAVE_SPEC else [])
    if exported(name)
    and isinstance(getattr(wire, name), type)
    and issubclass(getattr(wire, name), msgspec.Struct)
    and name not in PROPERTY_SKIPS
]


@needs_spec
@pytest.mark.usefixtures("hypothesis_jsonschema_compat")
@pytest.mark.parametrize("name", PROPERTY_CASES)
@settings(
    max_examples=10,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
@given(data=st.data())
def test_generated_instances_round_trip(name: str, data: st.DataObject) -> None:
    instance = data.draw(strategy(name), label=name)
    validator(LATEST, name).validate(instance)
    decoded = msgspec.json.decode(json.dumps(instance).encode(), type=getattr(wire, name))
    assert canonical(json.loads(msgspec.json.encode(decoded))) == canonical(instance)


def test_property_cases_are_broad() -> None:
    if HAVE_SPEC:
        assert len(PROPERTY_CASES) >= 30
