"""The protocol core with no event loop: two `Connection`s joined by bytes."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from mcpkit.protocol.connection import Connection
from mcpkit.protocol.context import CLIENT_CAPABILITIES, PROTOCOL_VERSION
from mcpkit.protocol.errors import FrameTooLarge, InvalidParams, LocalProtocolError, MethodNotFound
from mcpkit.protocol.events import (
    CancelReceived,
    ErrorReceived,
    ProgressReceived,
    ProtocolViolation,
    RequestReceived,
    ResponseReceived,
)
from mcpkit.protocol.lifecycle import State
from mcpkit.protocol.types import Implementation, InitializeResult, ServerCapabilities
from mcpkit.protocol.versions import Era
from tests.protocol_pair import MODERN_META, Pair


def _reply(events: list[Any]) -> dict[str, Any]:
    (event,) = events
    assert isinstance(event, ProtocolViolation), event
    assert event.reply is not None
    parsed: dict[str, Any] = json.loads(event.reply)
    return parsed


def test_legacy_handshake_walks_the_lifecycle() -> None:
    pair = Pair()
    _, event = pair.request(
        "initialize",
        {
            "protocolVersion": "2025-06-18",
            "capabilities": {"roots": {}},
            "clientInfo": {"name": "c", "version": "1"},
        },
    )
    assert (event.era, event.version) == (Era.LEGACY, "2025-06-18")
    assert pair.server.lifecycle.state is State.INITIALIZING
    result = InitializeResult(
        protocol_version=event.version,
        capabilities=msgspec.convert({"tools": {}}, ServerCapabilities),
        server_info=Implementation(name="s", version="1"),
    )
    (response,) = pair.to_client(pair.server.send_result(event.id, result))
    assert isinstance(response, ResponseReceived)
    assert response.result.protocol_version == "2025-06-18"
    assert pair.client.lifecycle.peer_capabilities == {"tools": {}}
    assert pair.server.lifecycle.peer_capabilities == {"roots": {}}
    pair.to_server(pair.client.send_notification("notifications/initialized"))
    assert pair.server.lifecycle.state.value == State.OPERATING.value
    assert pair.client.lifecycle.state is State.OPERATING


@pytest.mark.parametrize(
    ("requested", "answered"),
    [
        ("2024-11-05", "2024-11-05"),
        ("2025-03-26", "2025-03-26"),
        ("2099-01-01", "2025-11-25"),
        ("2026-07-28", "2025-11-25"),
    ],
)
def test_legacy_version_negotiation(requested: str, answered: str) -> None:
    pair = Pair()
    _, event = pair.request(
        "initialize",
        {
            "protocolVersion": requested,
            "capabilities": {},
            "clientInfo": {"name": "c", "version": "1"},
        },
    )
    assert event.version == answered


def test_modern_request_gets_context_and_result_type() -> None:
    pair = Pair()
    meta = {**MODERN_META, "io.modelcontextprotocol/logLevel": "debug", "progressToken": 7}
    _, event = pair.request("server/discover", meta=meta)
    assert event.era is Era.MODERN and event.context is not None
    assert event.context.log_level == "debug"
    assert event.context.progress_token == 7
    result = {
        "supportedVersions": ["2026-07-28"],
        "capabilities": {},
        "ttlMs": 0,
        "cacheScope": "public",
    }
    frame = pair.server.send_result(event.id, result)
    assert frame is not None and json.loads(frame)["result"]["resultType"] == "complete"
    (response,) = pair.to_client(frame)
    assert isinstance(response, ResponseReceived)
    assert response.result.supported_versions == ["2026-07-28"]


@pytest.mark.parametrize(
    ("meta", "code"),
    [
        ({CLIENT_CAPABILITIES: {}}, -32602),
        ({PROTOCOL_VERSION: "2026-07-28"}, -32602),
        ({PROTOCOL_VERSION: "2026-07-28", CLIENT_CAPABILITIES: "x"}, -32602),
        ({PROTOCOL_VERSION: "2031-01-01", CLIENT_CAPABILITIES: {}}, -32022),
        ({**MODERN_META, "io.modelcontextprotocol/logLevel": "loud"}, -32602),
    ],
)
def test_modern_meta_errors(meta: dict[str, Any], code: int) -> None:
    server = Connection(is_client=False)
    frame = json.dumps(
        {"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": {"_meta": meta}}
    )
    error = _reply(server.receive(frame.encode()))
    assert error["id"] == 3 and error["error"]["code"] == code
    if code == -32022:
        assert error["error"]["data"] == {"supported": ["2026-07-28"], "requested": "2031-01-01"}


def test_request_without_meta_or_session_is_rejected() -> None:
    server = Connection(is_client=False)
    error = _reply(server.receive(b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}'))
    assert error["error"]["code"] == -32602
    assert "initialize" in error["error"]["message"]


def test_legacy_only_methods_are_unknown_to_modern_requests() -> None:
    server = Connection(is_client=False)
    frame = json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"_meta": MODERN_META}}
    )
    assert _reply(server.receive(frame.encode()))["error"]["code"] == -32601


@pytest.mark.parametrize(
    ("frame", "code", "rid"),
    [
        (b"{not json", -32700, None),
        (b"", -32700, None),
        (b"5", -32600, None),
        (b'"hello"', -32600, None),
        (b"[]", -32600, None),
        (b'{"jsonrpc":"1.0","id":4,"method":"ping"}', -32600, 4),
        (b'{"id":4,"method":"ping"}', -32600, 4),
        (b'{"jsonrpc":"2.0","id":null,"method":"ping"}', -32600, None),
        (b'{"jsonrpc":"2.0","id":1.5,"method":"ping"}', -32600, None),
        (b'{"jsonrpc":"2.0","id":4,"method":"ping","params":[1]}', -32602, 4),
        (b'{"jsonrpc":"2.0","id":4}', -32600, 4),
        (b'{"jsonrpc":"2.0","id":4,"method":"sampling/createMessage","params":{}}', -32601, 4),
    ],
)
def test_malformed_input_gets_the_right_error_and_the_connection_goes_on(
    frame: bytes, code: int, rid: int | None
) -> None:
    pair = Pair()
    pair.initialize()
    error = _reply(pair.server.receive(frame))
    pair.validator.check(json.dumps(error).encode(), "s2c")
    assert (error.get("id"), error["error"]["code"]) == (rid, code)
    _, event = pair.request("ping")  # still working
    assert event.method == "ping"


def test_bad_params_are_invalid_params_with_the_request_id() -> None:
    pair = Pair()
    pair.initialize()
    frame = b'{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":5}}'
    error = _reply(pair.server.receive(frame))
    assert (error["id"], error["error"]["code"]) == (9, -32602)
    assert "name" in error["error"]["message"]


def test_duplicate_request_id_in_flight_is_rejected() -> None:
    pair = Pair()
    pair.initialize()
    frame = b'{"jsonrpc":"2.0","id":"a","method":"ping"}'
    (first,) = pair.server.receive(frame)
    assert isinstance(first, RequestReceived)
    assert _reply(pair.server.receive(frame))["error"]["code"] == -32600


def test_oversize_frame_and_stray_response() -> None:
    pair = Pair()
    pair.initialize()
    error = _reply(pair.server.receive_error(FrameTooLarge(100, 10)))
    assert (error.get("id"), error["error"]["code"]) == (None, -32600)
    (stray,) = pair.server.receive(b'{"jsonrpc":"2.0","id":77,"result":{}}')
    assert isinstance(stray, ProtocolViolation) and stray.reply is None


def test_batches_only_in_2025_03_26() -> None:
    pair = Pair()
    pair.initialize("2025-03-26")
    batch = (
        b'[{"jsonrpc":"2.0","id":101,"method":"ping"},{"jsonrpc":"2.0","method":"x/y"},'
        b'{"jsonrpc":"2.0","id":102,"method":"ping"},5]'
    )
    events = pair.server.receive(batch)
    requests = [e for e in events if isinstance(e, RequestReceived)]
    assert [r.id for r in requests] == [101, 102]
    assert pair.server.send_result(101, {}) is None  # waits for the rest of the batch
    reply = pair.server.send_result(102, {})
    assert reply is not None
    answers = json.loads(reply)
    assert sorted(str(a.get("id")) for a in answers) == ["101", "102", "None"]
    pair.validator.check(reply, "s2c")

    later = Pair()
    later.initialize("2025-11-25")
    assert (
        _reply(later.server.receive(b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]'))["error"]["code"]
        == -32600
    )


def test_cancellation_ends_the_request_once_and_silences_the_answer() -> None:
    pair = Pair()
    pair.initialize()
    rid, event = pair.request("ping")
    (cancel,) = pair.to_server(pair.client.cancel(rid, "no longer needed"))
    assert cancel == CancelReceived(event.id, "no longer needed")
    assert pair.server.send_result(event.id, {}) is None
    assert pair.client.cancel(rid) is None
    assert pair.client.receive(b'{"jsonrpc":"2.0","id":%d,"result":{}}' % rid) == []


def test_progress_flows_and_must_increase() -> None:
    pair = Pair()
    pair.initialize()
    rid, event = pair.request("ping", progress_token="tok")
    (progress,) = pair.to_client(pair.server.send_progress(event.id, 0.5, 1.0, "half"))
    assert progress == ProgressReceived(rid, 0.5, 1.0, "half")
    with pytest.raises(LocalProtocolError):
        pair.server.send_progress(event.id, 0.5)
    (done,) = pair.to_client(pair.server.send_result(event.id, {}))
    assert isinstance(done, ResponseReceived)


def test_no_request_for_an_undeclared_capability() -> None:
    pair = Pair()
    pair.initialize(capabilities={})
    with pytest.raises(LocalProtocolError, match="tools"):
        pair.client.send_request("tools/list")
    with pytest.raises(LocalProtocolError, match="sampling"):
        pair.server.send_request("sampling/createMessage", {"messages": [], "maxTokens": 1})
    with pytest.raises(LocalProtocolError):
        pair.client.send_request("sampling/createMessage", {})


def test_nothing_but_initialize_before_the_handshake() -> None:
    client = Connection(is_client=True)
    with pytest.raises(LocalProtocolError):
        client.send_request("tools/list")
    client.send_request("ping")  # ping is always allowed


def test_params_that_are_not_json_are_refused_and_nothing_is_recorded() -> None:
    client = Connection(is_client=True)
    hello = {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "c", "version": "1"},
    }
    with pytest.raises(LocalProtocolError, match="params of initialize are not JSON"):
        client.send_request("initialize", {**hello, "extra": object()})
    assert client.requests.outgoing == {}
    assert client.lifecycle.state is State.IDLE  # the handshake did not start
    rid, frame = client.send_request("initialize", hello)  # and still can
    assert json.loads(frame)["id"] == rid and list(client.requests.outgoing) == [rid]
    assert client.lifecycle.state.value == "initializing"


def test_error_responses_become_typed_errors() -> None:
    pair = Pair()
    pair.initialize()
    _, event = pair.request("ping")
    (failure,) = pair.to_client(pair.server.send_error(event.id, MethodNotFound("nope")))
    assert isinstance(failure, ErrorReceived) and isinstance(failure.error, MethodNotFound)
    _, event = pair.request("ping")
    (failure,) = pair.to_client(pair.server.send_error(event.id, RuntimeError("secret detail")))
    assert isinstance(failure, ErrorReceived)
    assert failure.error.code == -32603 and "secret" not in str(failure.error)  # type: ignore[attr-defined]
    _, event = pair.request("ping")
    (failure,) = pair.to_client(
        pair.server.send_error(event.id, InvalidParams("bad", {"uri": "x"}))
    )
    assert failure.error.data == {"uri": "x"}  # type: ignore[union-attr]


def test_close_ends_every_pending_request() -> None:
    pair = Pair()
    pair.initialize()
    ids = [pair.client.send_request("ping")[0] for _ in range(3)]
    ended = pair.client.close()
    assert sorted(e.id for e in ended if isinstance(e, ErrorReceived)) == sorted(ids)


def test_a_cancelled_request_in_a_batch_does_not_hold_the_batch() -> None:
    pair = Pair()
    pair.initialize("2025-03-26")
    batch = (
        b'[{"jsonrpc":"2.0","id":201,"method":"ping"},{"jsonrpc":"2.0","id":202,"method":"ping"}]'
    )
    pair.server.receive(batch)
    (cancel,) = pair.server.receive(
        b'{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":201}}'
    )
    assert isinstance(cancel, CancelReceived)
    assert pair.server.send_cancelled(201) is None
    reply = pair.server.send_result(202, {})
    assert reply is not None
    assert [answer["id"] for answer in json.loads(reply)] == [202]


def test_modern_requests_are_checked_against_their_own_version() -> None:
    client = Connection(is_client=True)
    client.peer_capabilities = {"tools": {}}
    with pytest.raises(LocalProtocolError, match="not part of protocol version 2026-07-28"):
        client.send_request("logging/setLevel", {"level": "info"}, meta=MODERN_META)
    client.send_request("prompts/list", meta=MODERN_META)  # undeclared: the server says -32601
    client.send_request("tools/list", meta=MODERN_META)


@pytest.mark.parametrize(
    "method", ["initialize", "logging/setLevel", "resources/subscribe", "ping"]
)
def test_removed_methods_are_unknown_to_modern_requests_even_with_bad_params(method: str) -> None:
    server = Connection(is_client=False)
    frame = json.dumps(
        {"jsonrpc": "2.0", "id": 5, "method": method, "params": {"_meta": MODERN_META}}
    )
    assert _reply(server.receive(frame.encode()))["error"]["code"] == -32601


def _with_tools() -> Pair:
    """A legacy pair whose server declared `tools`."""
    pair = Pair()
    _, event = pair.request(
        "initialize",
        {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "c", "version": "1"},
        },
    )
    result = InitializeResult(
        protocol_version=event.version,
        capabilities=msgspec.convert({"tools": {}}, ServerCapabilities),
        server_info=Implementation(name="s", version="1"),
    )
    pair.to_client(pair.server.send_result(event.id, result))
    pair.to_server(pair.client.send_notification("notifications/initialized"))
    return pair


def _answer(rid: Any, result: Any, **extra: Any) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": rid, "result": result, **extra}).encode()


CALL = {"name": "echo", "arguments": {}}
CONTENT = {"content": [{"type": "text", "text": "hi"}]}


def test_answers_are_judged_alike_whether_read_in_one_pass_or_not() -> None:
    """The answer to the request sent last is read straight into its result type; every
    frame that is not exactly such an answer gets what the general reading gives it."""
    pair = _with_tools()
    rid, _ = pair.client.send_request("tools/call", CALL)
    # not answers of that request, or not acceptable ones: the request still waits
    assert _reply(pair.client.receive(_answer(rid, CONTENT, error={"code": 1, "message": "x"})))
    assert _reply(pair.client.receive(_answer(rid, CONTENT, jsonrpc="1.0")))
    (stray,) = pair.client.receive(_answer(str(rid), CONTENT))
    assert isinstance(stray, ProtocolViolation) and "unknown request id" in str(stray.error)
    assert rid in pair.client.requests.outgoing
    # an answer whose result does not fit its type ends the request with a clear error
    (bad,) = pair.client.receive(_answer(rid, {"content": "not a list"}))
    assert isinstance(bad, ErrorReceived) and "invalid result for tools/call" in str(bad.error)
    assert not pair.client.requests.outgoing
    # an unknown member around a good answer: accepted, as the envelope's reader does
    rid, _ = pair.client.send_request("tools/call", CALL)
    (good,) = pair.client.receive(_answer(rid, CONTENT, extra=1))
    assert isinstance(good, ResponseReceived) and good.result.content[0].text == "hi"


def test_an_earlier_request_gets_its_own_result_type() -> None:
    """Answers to requests other than the last one sent keep their own types, even when
    their result would also fit the last one's (any object fits `ping`'s)."""
    pair = _with_tools()
    call, _ = pair.client.send_request("tools/call", CALL)
    ping, _ = pair.client.send_request("ping")
    (answer,) = pair.client.receive(_answer(call, CONTENT))
    assert isinstance(answer, ResponseReceived) and answer.method == "tools/call"
    assert answer.result.content[0].text == "hi"
    (answer,) = pair.client.receive(_answer(ping, {}))
    assert isinstance(answer, ResponseReceived) and answer.method == "ping"
    assert not pair.client.requests.outgoing and pair.client.requests.latest is None


@pytest.mark.parametrize(
    ("result", "kind"),
    [
        ({**CONTENT, "resultType": "complete"}, "CallToolResult"),
        (CONTENT, "CallToolResult"),
        ({**CONTENT, "resultType": "input_required", "inputRequests": {}}, "InputRequiredResult"),
        ({"resultType": "input_required", "inputRequests": {}}, "InputRequiredResult"),
        ({**CONTENT, "resultType": "later"}, "unknown resultType"),
    ],
)
def test_a_modern_result_asking_for_input_is_told_apart(result: dict[str, Any], kind: str) -> None:
    pair = Pair()
    rid, _ = pair.client.send_request("tools/call", CALL, meta=MODERN_META)
    (event,) = pair.client.receive(_answer(rid, result))
    if isinstance(event, ResponseReceived):
        assert type(event.result).__name__ == kind
    else:
        assert isinstance(event, ErrorReceived) and kind in str(event.error)
