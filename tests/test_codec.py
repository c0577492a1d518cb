"""The JSON-RPC codec on its own: arbitrary input, and encode∘decode on envelopes."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpkit.protocol import codec
from mcpkit.protocol.codec import (
    JSONRPCErrorResponse,
    JSONRPCNotification,
    JSONRPCRequest,
    JSONRPCResultResponse,
)
from mcpkit.protocol.errors import RemoteProtocolError
from mcpkit.protocol.types import Error
from mcpkit.testing.frames import FrameValidator

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
objects = st.dictionaries(
    st.text(max_size=6).filter(lambda k: k != "_meta"), json_values, max_size=4
)
ids = st.integers(-(2**53), 2**53) | st.text(min_size=1, max_size=8)


@settings(max_examples=500, deadline=None)
@given(data=st.binary(max_size=200))
def test_arbitrary_bytes_give_a_message_or_a_remote_protocol_error(data: bytes) -> None:
    code: int | None = None
    try:
        decoded = codec.decode_frame(data)
    except RemoteProtocolError as exc:
        code = exc.code
        decoded = []
    assert code in (None, -32700, -32600, -32602)
    items = decoded if isinstance(decoded, list) else [decoded]
    for item in items:
        assert isinstance(
            item,
            JSONRPCRequest
            | JSONRPCNotification
            | JSONRPCResultResponse
            | JSONRPCErrorResponse
            | RemoteProtocolError,
        )


def _as_json(message: Any) -> Any:
    return json.loads(codec.encode(message))


@settings(max_examples=200, deadline=None)
@given(rid=ids, method=st.sampled_from(["x/custom", "acme/do"]), params=objects)
def test_request_and_notification_round_trip(
    rid: int | str, method: str, params: dict[str, Any]
) -> None:
    for message in (
        JSONRPCRequest(id=rid, method=method, params=params),
        JSONRPCNotification(method=method, params=params),
    ):
        frame = codec.encode(message)
        decoded = codec.decode_frame(frame)
        assert not isinstance(decoded, list)
        assert json.loads(bytes(decoded.params)) == params  # type: ignore[union-attr]
        again = msgspec.structs.replace(decoded, params=json.loads(bytes(decoded.params)))  # type: ignore[union-attr]
        assert codec.encode(again) == frame


@settings(max_examples=200, deadline=None)
@given(
    rid=ids,
    result=objects,
    code=st.integers(-(2**31), 2**31),
    message=st.text(max_size=20),
    data=json_values,
)
def test_responses_round_trip_and_pass_the_schema(
    rid: int | str, result: dict[str, Any], code: int, message: str, data: Any
) -> None:
    validator = FrameValidator()
    ok = JSONRPCResultResponse(id=rid, result=result)
    decoded = codec.decode_frame(codec.encode(ok))
    assert isinstance(decoded, JSONRPCResultResponse)
    assert (decoded.id, json.loads(bytes(decoded.result))) == (rid, result)
    error = Error(code=code, message=message, data=msgspec.UNSET if data is None else data)
    failed = JSONRPCErrorResponse(id=rid, error=error)
    frame = codec.encode(failed)
    assert codec.decode_frame(frame) == failed
    validator.check(frame, "s2c")
    assert _as_json(failed)["error"]["code"] == code


def test_params_is_told_an_object_by_its_first_non_blank_byte_however_far_in() -> None:
    for blank in ("", " ", " \n\t" * 40):  # the last one: past the first 64 bytes
        frame = f'{{"jsonrpc":"2.0","id":1,"method":"ping","params":{blank}{{}}}}'.encode()
        assert isinstance(codec.decode_frame(frame), JSONRPCRequest)
        frame = f'{{"jsonrpc":"2.0","id":1,"method":"ping","params":{blank}[1]}}'.encode()
        with pytest.raises(RemoteProtocolError, match="params must be a JSON object") as caught:
            codec.decode_frame(frame)
        assert caught.value.code == -32602
