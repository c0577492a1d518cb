"""The JSON-RPC 2.0 codec: bytes to envelopes and back.

Layer: protocol (sans-I/O). No I/O, no clocks, no logging.

How this works: a frame is decoded in one msgspec call into a private struct holding the
envelope fields, with `params`/`result` kept as `msgspec.Raw` (undecoded bytes). The envelope
is checked against JSON-RPC 2.0 and turned into one of the four message types below. The
payload is decoded later, once the method tells which type it has (see `methods.py`), so
each byte is parsed once and never into an intermediate dict.

Errors in a frame raise `RemoteProtocolError` with the JSON-RPC code to answer with
(-32700 for bad JSON, -32600 for a bad envelope, -32602 for non-object params) and, when it
could be read, the id of the offending request.
"""

from __future__ import annotations

from typing import Any, Final, Generic, TypeAlias, TypeVar

import msgspec
from msgspec import UNSET, Raw, UnsetType

from mcpkit.protocol.errors import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    PARSE_ERROR,
    RemoteProtocolError,
)
from mcpkit.protocol.types import Error

__all__ = [
    "Answer",
    "JSONRPCErrorResponse",
    "JSONRPCMessage",
    "JSONRPCNotification",
    "JSONRPCRequest",
    "JSONRPCResultResponse",
    "RequestId",
    "decode_answer",
    "decode_frame",
    "decode_payload",
    "encode",
    "encode_batch",
]

RequestId: TypeAlias = "int | str"

_NO_PAYLOAD: Final = Raw()


class JSONRPCRequest(msgspec.Struct, frozen=True, kw_only=True):
    """A request. Decoded: `params` is `msgspec.Raw` (empty when absent). To send: any
    msgspec-encodable value, or UNSET to omit it."""

    jsonrpc: str = "2.0"
    id: int | str
    method: str
    params: Any = UNSET


class JSONRPCNotification(msgspec.Struct, frozen=True, kw_only=True):
    """A notification (no id, never answered)."""

    jsonrpc: str = "2.0"
    method: str
    params: Any = UNSET


class JSONRPCResultResponse(msgspec.Struct, frozen=True, kw_only=True):
    """A successful response. Decoded: `result` is `msgspec.Raw`."""

    jsonrpc: str = "2.0"
    id: int | str
    result: Any


class JSONRPCErrorResponse(msgspec.Struct, frozen=True, kw_only=True):
    """An error response.

    When the request's id could not be read, JSON-RPC 2.0 says `"id": null`, which the
    schemas up to 2025-06-18 require; from 2025-11-25 the MCP schema makes `id` optional and
    not nullable, so such errors omit it (UNSET). `Connection` picks per version.
    """

    jsonrpc: str = "2.0"
    id: int | str | UnsetType | None = UNSET
    error: Error


JSONRPCMessage: TypeAlias = (
    "JSONRPCRequest | JSONRPCNotification | JSONRPCResultResponse | JSONRPCErrorResponse"
)


class _Frame(msgspec.Struct):
    jsonrpc: str | UnsetType = UNSET
    id: int | str | UnsetType | None = UNSET
    method: str | UnsetType = UNSET
    params: Raw = _NO_PAYLOAD
    result: Raw = _NO_PAYLOAD
    error: Error | UnsetType = UNSET


_frame_decoder: Final = msgspec.json.Decoder(_Frame | list[Raw])
_single_decoder: Final = msgspec.json.Decoder(_Frame)
_encoder: Final = msgspec.json.Encoder()


def decode_frame(data: bytes) -> JSONRPCMessage | list[JSONRPCMessage | RemoteProtocolError]:
    """Decode one frame: a message, or (for a JSON array) a batch.

    A batch's elements are decoded one by one; a bad element becomes a
    `RemoteProtocolError` in its place so the good ones are still served.

    Raises:
        RemoteProtocolError: bad JSON (-32700), not a JSON-RPC message (-32600), params
            not an object (-32602), or an empty batch (-32600).
    """
    try:
        frame = _frame_decoder.decode(data)
    except msgspec.ValidationError as exc:  # (a subclass of DecodeError: check it first)
        raise RemoteProtocolError(f"not a JSON-RPC message: {exc}", code=INVALID_REQUEST) from None
    except msgspec.DecodeError as exc:
        raise RemoteProtocolError(f"invalid JSON: {exc}", code=PARSE_ERROR) from None
    if isinstance(frame, list):
        if not frame:
            raise RemoteProtocolError("empty batch", code=INVALID_REQUEST)
        return [_decode_element(bytes(raw)) for raw in frame]
    return _envelope(frame)


def _decode_element(data: bytes) -> JSONRPCMessage | RemoteProtocolError:
    try:
        return _envelope(_single_decoder.decode(data))
    except msgspec.ValidationError as exc:
        return RemoteProtocolError(f"not a JSON-RPC message: {exc}", code=INVALID_REQUEST)
    except RemoteProtocolError as exc:
        return exc


def _envelope(frame: _Frame) -> JSONRPCMessage:
    rid = None if isinstance(frame.id, UnsetType) else frame.id
    if frame.jsonrpc != "2.0":
        raise RemoteProtocolError(
            'missing or wrong "jsonrpc" member (must be "2.0")',
            code=INVALID_REQUEST,
            request_id=rid,
        )
    if not isinstance(frame.method, UnsetType):
        return _call(frame, rid)
    if not isinstance(frame.error, UnsetType):
        if frame.result:
            raise RemoteProtocolError(
                "an error response cannot carry a result", code=INVALID_REQUEST
            )
        return JSONRPCErrorResponse(id=frame.id, error=frame.error)
    if frame.result and rid is not None:
        return JSONRPCResultResponse(id=rid, result=frame.result)
    raise RemoteProtocolError(
        "neither a request, a notification nor a response", code=INVALID_REQUEST, request_id=rid
    )


def _call(frame: _Frame, rid: int | str | None) -> JSONRPCRequest | JSONRPCNotification:
    method = frame.method
    assert isinstance(method, str)
    if frame.result or not isinstance(frame.error, UnsetType):
        raise RemoteProtocolError(
            "a request cannot carry result or error", code=INVALID_REQUEST, request_id=rid
        )
    params = frame.params
    if params and memoryview(params)[0] != 0x7B and not _starts_object(params):  # 0x7B: {
        raise RemoteProtocolError(
            "params must be a JSON object", code=INVALID_PARAMS, request_id=rid
        )
    if isinstance(frame.id, UnsetType):
        return JSONRPCNotification(method=method, params=params)
    if frame.id is None:
        raise RemoteProtocolError("a request id must not be null", code=INVALID_REQUEST)
    return JSONRPCRequest(id=frame.id, method=method, params=params)


def _starts_object(raw: Raw) -> bool:
    """Whether a raw JSON value that does not start with `{` is an object after blanks,
    looking at its first bytes only (copying a 100 KB `params` to look at one byte cost
    more than the look)."""
    head = bytes(memoryview(raw)[:64]).lstrip()
    return (head or bytes(raw).lstrip()).startswith(b"{")


_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}

_R = TypeVar("_R")


class Answer(msgspec.Struct, Generic[_R], forbid_unknown_fields=True):
    """A result response read straight into its result type (see `decode_answer`). Any
    other member (`error`, `method`) makes it fail, and so does anything else that is not
    exactly a result response."""

    jsonrpc: str
    id: int | str
    result: _R


_answer_decoders: dict[Any, msgspec.json.Decoder[Answer[Any]]] = {}


def decode_answer(data: bytes, result_type: Any) -> Answer[Any]:
    """Decode a frame that should be a result response with a `result_type` result, in one
    pass (no envelope first, no `Raw` decoded again): what a client reads after nearly every
    request. The caller still checks `jsonrpc` and the id.

    Raises:
        msgspec.DecodeError: the frame is anything else, or its result does not fit; the
            caller then reads it with `decode_frame`, which says what it is.
    """
    decoder = _answer_decoders.get(result_type)
    if decoder is None:
        decoder = _answer_decoders[result_type] = msgspec.json.Decoder(Answer[result_type])
    return decoder.decode(data)


def decode_payload(raw: Raw, type_: Any) -> Any:
    """Decode a `params` or `result` payload into `type_` (one C call; decoders cached).

    An absent payload decodes as an empty object.

    Raises:
        msgspec.ValidationError: the payload does not fit the type; the caller knows which
            JSON-RPC error that is (-32602 for params, a broken response for results).
    """
    decoder = _decoders.get(type_)
    if decoder is None:
        decoder = _decoders[type_] = msgspec.json.Decoder(type_)
    return decoder.decode(raw if raw else b"{}")


def encode(message: JSONRPCMessage) -> bytes:
    """Encode one message as compact UTF-8 JSON (no newline: framing is the transport's)."""
    return _encoder.encode(message)


def encode_batch(messages: list[JSONRPCMessage]) -> bytes:
    """Encode a batch (2025-03-26 only) as one JSON array."""
    return _encoder.encode(messages)
