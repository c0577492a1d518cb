"""Tests of the schema referee itself (`mcpkit.testing.frames`), with hand-written frames.

Layer: tests. Every other test trusts `FrameValidator` to catch malformed traffic, so here it
must prove both halves: correct conversations pass, and each kind of real mistake (a missing
`_meta`, a missing `resultType`, a wrong type, a request sent the wrong way, a batch where
batches are not allowed) fails with a message that names the version, the definition and the
place.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mcpkit.testing import (
    SCHEMA_DIR_ENV,
    FrameSchemaError,
    FrameValidator,
    ValidatingTransport,
)

META = "io.modelcontextprotocol/protocolVersion"
MODERN = "2026-07-28"


def frame(**fields: Any) -> bytes:
    return json.dumps({"jsonrpc": "2.0", **fields}).encode()


def initialize(validator: FrameValidator, asked: str, chosen: str | None = None) -> None:
    """A valid legacy handshake: initialize, its result, notifications/initialized."""
    client = {"name": "test-client", "version": "1.0"}
    params = {"protocolVersion": asked, "capabilities": {}, "clientInfo": client}
    validator.check(frame(id=0, method="initialize", params=params), "c2s")
    result = {
        "protocolVersion": chosen or asked,
        "capabilities": {"tools": {}},
        "serverInfo": {"name": "test-server", "version": "1.0"},
    }
    validator.check(frame(id=0, result=result), "s2c")
    validator.check(frame(method="notifications/initialized"), "c2s")


def modern_params(**extra: Any) -> dict[str, Any]:
    meta = {META: MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
    return {"_meta": meta, **extra}


def test_legacy_exchange_passes(frame_validator: FrameValidator) -> None:
    initialize(frame_validator, "2025-11-25")
    frame_validator.check(frame(id=1, method="tools/list"), "c2s")
    tool = {"name": "echo", "inputSchema": {"type": "object"}}
    frame_validator.check(frame(id=1, result={"tools": [tool]}), "s2c")
    call = {"name": "echo", "arguments": {"text": "hi"}}
    frame_validator.check(frame(id="two", method="tools/call", params=call), "c2s")
    content = [{"type": "text", "text": "hi"}]
    frame_validator.check(frame(id="two", result={"content": content}), "s2c")

    assert frame_validator.version == "2025-11-25"
    assert [r.definition for r in frame_validator.records] == [
        "InitializeRequest",
        "InitializeResult",
        "InitializedNotification",
        "ListToolsRequest",
        "ListToolsResult",
        "CallToolRequest",
        "CallToolResult",
    ]
    assert {(r.outcome, r.version) for r in frame_validator.records} == {("checked", "2025-11-25")}


def test_legacy_wrong_argument_type_fails(frame_validator: FrameValidator) -> None:
    initialize(frame_validator, "2025-11-25")
    bad = frame(id=1, method="tools/call", params={"name": 5})
    with pytest.raises(FrameSchemaError, match=r"CallToolRequest at \$\.params\.name") as info:
        frame_validator.check(bad, "c2s")
    assert info.value.version == "2025-11-25"
    assert "is not of type 'string'" in str(info.value)
    assert '"name":5' in str(info.value)  # the frame is shown


def test_modern_discover_passes(frame_validator: FrameValidator) -> None:
    request = frame(id=1, method="server/discover", params=modern_params())
    frame_validator.check(request, "c2s")
    result = {
        "resultType": "complete",
        "supportedVersions": [MODERN, "2025-11-25"],
        "capabilities": {"tools": {}},
        "ttlMs": 60000,
        "cacheScope": "public",
    }
    frame_validator.check(frame(id=1, result=result), "s2c")
    assert [(r.definition, r.version) for r in frame_validator.records] == [
        ("DiscoverRequest", MODERN),
        ("DiscoverResultResponse", MODERN),
    ]


def test_modern_request_without_meta_fails(frame_validator: FrameValidator) -> None:
    with pytest.raises(FrameSchemaError, match=r"ListToolsRequest at \$\.params") as info:
        frame_validator.check(frame(id=1, method="tools/list", params={}), "c2s")
    assert info.value.version == MODERN
    assert "'_meta' is a required property" in str(info.value)
    with pytest.raises(FrameSchemaError, match="ListToolsRequest"):
        frame_validator.check(frame(id=2, method="tools/list"), "c2s")


def test_modern_result_without_result_type_fails(frame_validator: FrameValidator) -> None:
    frame_validator.check(frame(id=7, method="server/discover", params=modern_params()), "c2s")
    result = {
        "supportedVersions": [MODERN],
        "capabilities": {},
        "ttlMs": 0,
        "cacheScope": "private",
    }
    with pytest.raises(FrameSchemaError, match=r"DiscoverResult at \$\.result") as info:
        frame_validator.check(frame(id=7, result=result), "s2c")
    assert info.value.path.startswith("$.result")
    assert "'resultType' is a required property" in info.value.reason


def test_modern_input_required_result_passes(frame_validator: FrameValidator) -> None:
    params = modern_params(name="deploy", arguments={})
    frame_validator.check(frame(id=3, method="tools/call", params=params), "c2s")
    result = {"resultType": "input_required", "requestState": "opaque"}
    frame_validator.check(frame(id=3, result=result), "s2c")
    assert frame_validator.records[-1].definition == "CallToolResultResponse"
    # The envelope's `InputRequiredResult | CallToolResult` alone would let this through.
    not_a_tool_result = {"resultType": "complete", "content": "not a list"}
    with pytest.raises(FrameSchemaError, match=r"CallToolResult at \$\.result\.content"):
        frame_validator.check(frame(id=3, result=not_a_tool_result), "s2c")


def test_error_responses(frame_validator: FrameValidator) -> None:
    initialize(frame_validator, "2025-11-25")
    frame_validator.check(frame(id=4, method="tools/list"), "c2s")
    error = {"code": -32601, "message": "Method not found"}
    frame_validator.check(frame(id=4, error=error), "s2c")
    frame_validator.check(frame(id=99, error=error), "s2c")  # id never seen: still an error
    assert frame_validator.records[-1].definition == "JSONRPCErrorResponse"
    with pytest.raises(FrameSchemaError, match=r"JSONRPCErrorResponse at \$\.error\.code"):
        frame_validator.check(frame(id=5, error={"code": "oops", "message": "x"}), "s2c")
    with pytest.raises(FrameSchemaError, match="never both"):
        frame_validator.check(frame(id=4, error=error, result={}), "s2c")


def test_old_error_definition_name(frame_validator: FrameValidator) -> None:
    initialize(frame_validator, "2024-11-05")
    frame_validator.check(frame(id=1, error={"code": -32600, "message": "bad"}), "s2c")
    assert frame_validator.records[-1].definition == "JSONRPCError"


def test_null_error_id(frame_validator: FrameValidator) -> None:
    parse_error = {"code": -32700, "message": "Parse error"}
    initialize(frame_validator, "2025-06-18")  # id required: null is the only JSON-RPC answer
    frame_validator.check(frame(id=None, error=parse_error), "s2c")
    assert "null id" in frame_validator.records[-1].note
    with pytest.raises(FrameSchemaError, match=r"JSONRPCError at \$\.error"):
        frame_validator.check(frame(id=None, error={"code": -32700}), "s2c")

    modern = FrameValidator()  # 2025-11-25 on: `id` is optional, so omit it rather than null
    modern.check(frame(error=parse_error), "s2c")
    with pytest.raises(FrameSchemaError, match=r"JSONRPCErrorResponse at \$\.id"):
        modern.check(frame(id=None, error=parse_error), "s2c")


def test_batch_in_2025_03_26(frame_validator: FrameValidator) -> None:
    initialize(frame_validator, "2025-03-26")
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        {"jsonrpc": "2.0", "method": "notifications/roots/list_changed"},
        {"jsonrpc": "2.0", "id": 2, "method": "ping"},
    ]
    frame_validator.check(json.dumps(batch).encode(), "c2s")
    replies = [
        {"jsonrpc": "2.0", "id": 1, "result": {"tools": []}},
        {"jsonrpc": "2.0", "id": 2, "result": {}},
    ]
    frame_validator.check(replies, "s2c")
    assert [r.definition for r in frame_validator.records[-5:]] == [
        "ListToolsRequest",
        "RootsListChangedNotification",
        "PingRequest",
        "ListToolsResult",
        "EmptyResult",
    ]
    bad = [batch[0], {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {}}]
    with pytest.raises(FrameSchemaError, match=r"CallToolRequest at \$\[1\]\.params"):
        frame_validator.check(bad, "c2s")
    with pytest.raises(FrameSchemaError, match="empty array"):
        frame_validator.check([], "c2s")


def test_batch_outside_2025_03_26_fails(frame_validator: FrameValidator) -> None:
    initialize(frame_validator, "2025-06-18")
    with pytest.raises(FrameSchemaError, match="batches are not allowed in MCP 2025-06-18"):
        frame_validator.check([{"jsonrpc": "2.0", "id": 1, "method": "ping"}], "c2s")


@pytest.mark.parametrize(
    "garbage", [b"not json", b"\xff\xfe\x00", b'{"jsonrpc": "2.0", "id": 1,', b"NaN", b""]
)
def test_garbage_is_skipped_and_recorded(frame_validator: FrameValidator, garbage: bytes) -> None:
    frame_validator.check(garbage, "c2s")
    assert [r.outcome for r in frame_validator.records] == ["skipped"]
    assert "not JSON" in frame_validator.skipped[0].note


def test_json_that_is_not_json_rpc_fails(frame_validator: FrameValidator) -> None:
    with pytest.raises(FrameSchemaError, match="JSONRPCMessage"):
        frame_validator.check(b'{"hello": "world"}', "c2s")
    with pytest.raises(FrameSchemaError, match="JSONRPCMessage"):
        frame_validator.check(b"42", "s2c")


def test_server_to_client_request_in_legacy(frame_validator: FrameValidator) -> None:
    initialize(frame_validator, "2025-11-25")
    message = {"role": "user", "content": {"type": "text", "text": "2+2?"}}
    params = {"messages": [message], "maxTokens": 10}
    frame_validator.check(frame(id="s1", method="sampling/createMessage", params=params), "s2c")
    answer = {"role": "assistant", "content": {"type": "text", "text": "4"}}
    with pytest.raises(FrameSchemaError, match="CreateMessageResult") as info:
        frame_validator.check(frame(id="s1", result=answer), "c2s")  # no "model"
    assert "'model' is a required property" in info.value.reason
    frame_validator.check(frame(id="s1", result={**answer, "model": "m"}), "c2s")
    assert frame_validator.records[-1].definition == "CreateMessageResult"

    wrong_way = frame(id=8, method="sampling/createMessage", params=params)
    with pytest.raises(FrameSchemaError, match="not a client->server request") as info:
        frame_validator.check(wrong_way, "c2s")
    assert "server->client request" in str(info.value)


def test_modern_has_no_server_requests(frame_validator: FrameValidator) -> None:
    params = {"messages": [], "maxTokens": 1}
    with pytest.raises(FrameSchemaError, match="only a type inside other messages"):
        frame_validator.check(frame(id=1, method="sampling/createMessage", params=params), "s2c")


def test_notification_sent_the_wrong_way_fails(frame_validator: FrameValidator) -> None:
    initialize(frame_validator, "2025-06-18")
    with pytest.raises(FrameSchemaError, match="client->server notification"):
        frame_validator.check(frame(method="notifications/initialized"), "s2c")


def test_unknown_method_gets_envelope_check(frame_validator: FrameValidator) -> None:
    initialize(frame_validator, "2025-11-25")
    frame_validator.check(frame(id=1, method="acme/frobnicate", params={"x": 1}), "c2s")
    frame_validator.check(frame(id=1, result={"anything": True}), "s2c")
    assert [(r.outcome, r.method) for r in frame_validator.envelope_only] == [
        ("envelope-only", "acme/frobnicate"),
        ("envelope-only", "acme/frobnicate"),
    ]
    with pytest.raises(FrameSchemaError, match="JSONRPCNotification"):
        frame_validator.check(b'{"jsonrpc": "1.0", "method": "acme/ping"}', "c2s")


def test_extension_method_in_modern(frame_validator: FrameValidator) -> None:
    get_task = frame(id=1, method="tasks/get", params=modern_params(taskId="t1"))
    frame_validator.check(get_task, "c2s")
    assert frame_validator.records[-1].definition == "GetTaskRequest"
    with pytest.raises(FrameSchemaError, match="GetTaskRequest"):
        frame_validator.check(frame(id=2, method="tasks/get", params=modern_params()), "c2s")


def test_version_switches(frame_validator: FrameValidator) -> None:
    assert frame_validator.version == MODERN  # before any traffic: the newest version
    initialize(frame_validator, "2025-11-25", chosen="2025-03-26")  # the server downgrades
    assert frame_validator.version == "2025-03-26"
    assert frame_validator.records[1].version == "2025-03-26"  # the response, too
    frame_validator.check([{"jsonrpc": "2.0", "id": 1, "method": "ping"}], "c2s")  # batch: ok

    # A request naming its version is checked (with its response) under that version.
    frame_validator.check(frame(id=2, method="tools/list", params=modern_params()), "c2s")
    with pytest.raises(FrameSchemaError, match=f"MCP {MODERN} .* ListToolsResult at"):
        frame_validator.check(frame(id=2, result={"tools": []}), "s2c")  # no cacheScope
    assert frame_validator.version == "2025-03-26"  # the legacy session is unchanged


def test_modern_version_carries_to_unversioned_frames() -> None:
    validator = FrameValidator(default_version="2025-06-18")
    validator.check(frame(id=1, method="tools/list", params=modern_params()), "c2s")
    validator.check(frame(method="notifications/tools/list_changed"), "s2c")
    assert [r.version for r in validator.records] == [MODERN, MODERN]


def test_unknown_versions_fall_back(frame_validator: FrameValidator) -> None:
    params = modern_params()
    params["_meta"][META] = "2099-01-01"
    frame_validator.check(frame(id=1, method="server/discover", params=params), "c2s")
    assert frame_validator.records[-1].version == MODERN
    assert "2099-01-01" in frame_validator.records[-1].note

    legacy = FrameValidator()
    initialize(legacy, "2030-01-01", chosen="2025-11-25")
    assert legacy.records[0].version == "2025-11-25"  # the newest legacy version
    assert legacy.version == "2025-11-25"


def test_error_message_truncates_big_frames(frame_validator: FrameValidator) -> None:
    initialize(frame_validator, "2025-11-25")
    big = frame(id=1, method="tools/call", params={"name": 1, "arguments": {"x": "y" * 5000}})
    with pytest.raises(FrameSchemaError) as info:
        frame_validator.check(big, "c2s")
    text = str(info.value)
    assert len(text) < 1000
    assert text.startswith("MCP 2025-11-25 client->server frame does not match CallToolRequest")
    assert "…" in text


def test_schema_dir_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    spec = Path(__file__).parent / "spec"
    monkeypatch.setenv(SCHEMA_DIR_ENV, str(spec))
    assert FrameValidator().versions[-1] == MODERN
    monkeypatch.setenv(SCHEMA_DIR_ENV, str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError):
        FrameValidator()
    with pytest.raises(ValueError, match="direction"):
        FrameValidator(spec).check(b"{}", "up")  # type: ignore[arg-type]


class _Loopback:
    """A transport that hands back what was sent (enough to drive the wrapper)."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []

    async def send(self, frame: bytes) -> None:
        self.frames.append(frame)

    async def receive(self) -> bytes:
        return self.frames.pop(0)

    async def aclose(self) -> None:
        self.frames.clear()

    def describe(self) -> str:
        return "loopback"


@pytest.mark.anyio
async def test_validating_transport(frame_validator: FrameValidator) -> None:
    inner = _Loopback()
    client = ValidatingTransport(inner, frame_validator, side="client")
    await client.send(frame(id=1, method="server/discover", params=modern_params()))
    await client.send(b"garbage")
    await client.send_unchecked(frame(id=2, method="tools/list"))
    with pytest.raises(FrameSchemaError):
        await client.send(frame(id=3, method="tools/list"))
    assert len(inner.frames) == 3  # the bad frame never reached the wire
    assert len(client.failures) == 1
    assert [r.outcome for r in frame_validator.records] == ["checked", "skipped", "skipped"]

    server = ValidatingTransport(inner, frame_validator, side="server")
    received = await server.receive()
    assert json.loads(received)["method"] == "server/discover"
    assert frame_validator.records[-1].direction == "c2s"
    assert server.describe() == "loopback"
    await server.aclose()
