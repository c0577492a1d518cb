"""`Connection`: one side of an MCP conversation as a pure state machine. Bytes in, events out.

Layer: protocol (sans-I/O). It never reads or writes anything itself: the caller feeds it
frames with `receive()` and sends the bytes that `send_*()` return. That keeps every rule
of the protocol testable without an event loop (two Connections joined by bytes).

How this works:
- Era per request (server side): a request whose `_meta` names a protocol version is
  served statelessly under modern rules (its `RequestContext` checked: -32602/-32022);
  `initialize` starts a legacy session; any other request needs that session.
- Legacy sessions follow `Lifecycle`; each side may send only what the state, the
  negotiated version and the peer's declared capabilities allow (LocalProtocolError else).
- Bad input never raises: it becomes a `ProtocolViolation` event carrying the error frame
  to send back, and the connection goes on.
- Every request we send ends exactly once (see `requests.py`); modern results are stamped
  with `resultType`; batches (2025-03-26 only) are answered with one array.
"""

from __future__ import annotations

import itertools
from typing import Any, Final

import msgspec
from msgspec import UNSET

from mcpkit.protocol import codec
from mcpkit.protocol.codec import (
    JSONRPCErrorResponse,
    JSONRPCMessage,
    JSONRPCNotification,
    JSONRPCRequest,
    JSONRPCResultResponse,
)
from mcpkit.protocol.context import PROGRESS_TOKEN, PROTOCOL_VERSION, RequestContext, has_capability
from mcpkit.protocol.errors import (
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    ClosedError,
    LocalProtocolError,
    MCPKitError,
    ProtocolError,
    RemoteProtocolError,
    error_for,
    rpc_error_from,
)
from mcpkit.protocol.events import (
    CancelReceived,
    ErrorReceived,
    Event,
    NotificationReceived,
    ProgressReceived,
    ProtocolViolation,
    RequestReceived,
    ResponseReceived,
)
from mcpkit.protocol.lifecycle import Lifecycle, LifecycleEvent
from mcpkit.protocol.methods import METHODS, MethodSpec
from mcpkit.protocol.requests import Incoming, Outgoing, RequestTracker
from mcpkit.protocol.types import Error, InitializeResult, InputRequiredResult
from mcpkit.protocol.versions import (
    BATCH_VERSIONS,
    LATEST_LEGACY,
    LEGACY_VERSIONS,
    MODERN_VERSIONS,
    Era,
    negotiate_legacy,
)

__all__ = ["Connection"]

_LEGACY: Final = Era.LEGACY  # (hot-path aliases: see `Era`)
_MODERN: Final = Era.MODERN

RequestId = int | str
_RESULT_TYPES = frozenset({"complete", "input_required"})
_COMPLETE = (UNSET, "complete")  # a modern result's `resultType` when it is the whole result
NULL_ID_UNTIL = "2025-11-25"  # first version whose schema has no null error id


_ANY_RESULT = dict[str, Any]  # a result no spec types (built once: it is a hashed key)


class _MetaProbe(msgspec.Struct):
    meta: Any = msgspec.field(default=None, name="_meta")


class _ResultKind(msgspec.Struct):
    result_type: str = msgspec.field(default="complete", name="resultType")


class _Batch(msgspec.Struct):
    waiting: set[RequestId] = msgspec.field(default_factory=set)
    replies: list[JSONRPCMessage] = msgspec.field(default_factory=list)


class Connection:
    """One side (client or server) of one MCP connection, with no I/O.

    Args:
        is_client: which side we are.
        legacy_versions / modern_versions: the versions this side speaks, oldest first.
    """

    def __init__(
        self,
        *,
        is_client: bool,
        legacy_versions: tuple[str, ...] = LEGACY_VERSIONS,
        modern_versions: tuple[str, ...] = MODERN_VERSIONS,
    ) -> None:
        self.is_client = is_client
        self.legacy_versions = legacy_versions
        self.modern_versions = modern_versions
        self.lifecycle = Lifecycle(is_client=is_client)
        self.requests = RequestTracker()
        # Modern client: the server capabilities learnt from server/discover.
        self.peer_capabilities: dict[str, Any] | None = None
        self._batches: dict[int, _Batch] = {}
        self._batch_ids = itertools.count(1)
        # Legacy methods found sendable, with the lifecycle they were found sendable in
        # (state, version, capabilities): the same answer again costs a lookup, not the
        # checks, direction included (they were a tenth of a small request's client-side cost).
        self._cleared: dict[str, tuple[Any, str | None, dict[str, Any]]] = {}

    # ---- receiving -------------------------------------------------------------------

    def receive(self, frame: bytes) -> list[Event]:
        """Feed one frame; get what it means. Never raises for anything the peer sends."""
        latest = self.requests.latest
        if latest is not None:
            answered = self._answer_to(latest, frame)
            if answered is not None:
                return answered
        try:
            decoded = codec.decode_frame(frame)
        except RemoteProtocolError as exc:
            return [self._violation(exc)]
        if isinstance(decoded, list):
            return self._receive_batch(decoded)
        return self._receive_one(decoded, None)

    def _answer_to(self, latest: Outgoing, frame: bytes) -> list[Event] | None:
        """The frame a client reads after nearly every request, taken in one pass: an answer
        decoded straight into the result type of the request sent last (no envelope first,
        no payload read twice). None for anything else (another kind of frame, an answer of
        another type, a result that does not fit, a modern result asking for input): the
        general path reads and judges it. This path accepts only what that one would."""
        spec = latest.spec
        try:
            answer = codec.decode_answer(frame, _result_type(spec))
        except msgspec.DecodeError:
            return None
        entry = self.requests.outgoing.get(answer.id)
        if entry is None or entry.spec is not spec or answer.jsonrpc != "2.0":
            return None
        result = answer.result
        if (
            spec is not None
            and spec.input_required
            and entry.era is _MODERN
            and getattr(result, "result_type", UNSET) not in _COMPLETE
        ):
            return None
        self.requests.finish_outgoing(entry.id)
        if entry.method == "initialize":
            self._after_initialize(result)
        return [ResponseReceived(entry.id, entry.method, result)]

    def receive_error(self, exc: RemoteProtocolError) -> list[Event]:
        """Report a frame the transport had to reject (e.g. `FrameTooLarge`)."""
        return [self._violation(exc)]

    def _receive_one(self, msg: JSONRPCMessage, batch: int | None) -> list[Event]:
        # (`type() is`: the codec's envelopes are exactly these classes, see `events`)
        if type(msg) is JSONRPCRequest:
            return self._receive_request(msg, batch)
        if type(msg) is JSONRPCNotification:
            return self._receive_notification(msg)
        return self._receive_response(msg)  # type: ignore[arg-type]  # (no negative narrowing)

    def _receive_batch(self, items: list[JSONRPCMessage | RemoteProtocolError]) -> list[Event]:
        version = self.lifecycle.version
        if version not in BATCH_VERSIONS:
            exc = RemoteProtocolError(
                f"JSON-RPC batches are not allowed in protocol version {version or 'none'}",
                code=INVALID_REQUEST,
            )
            return [self._violation(exc)]
        bid = next(self._batch_ids)
        batch = self._batches[bid] = _Batch()
        events: list[Event] = []
        for item in items:
            if isinstance(item, RemoteProtocolError):
                batch.replies.append(_error_message(item.request_id, item, version))
                events.append(ProtocolViolation(item, None))
                continue
            for event in self._receive_one(item, bid):
                if isinstance(event, ProtocolViolation) and event.reply is not None:
                    batch.replies.append(
                        _error_message(event.error.request_id, event.error, version)
                    )
                    event = ProtocolViolation(event.error, None)
                events.append(event)
        flushed = self._flush_batch(bid)
        if flushed is not None:
            exc = RemoteProtocolError("invalid messages in batch", code=INVALID_REQUEST)
            events.append(ProtocolViolation(exc, flushed))
        return events

    def _receive_request(self, msg: JSONRPCRequest, batch: int | None) -> list[Event]:
        try:
            event = self._accept_request(msg)
        except ProtocolError as exc:
            exc.request_id = msg.id
            return [self._violation(exc)]
        except MCPKitError as exc:  # an RPCError such as -32022 from the _meta checks
            code, message, data = error_for(exc)
            err = RemoteProtocolError(message, code=code, data=data, request_id=msg.id)
            return [self._violation(err)]
        self.requests.incoming[msg.id].batch = batch
        if batch is not None:
            self._batches[batch].waiting.add(msg.id)
        return [event]

    def _accept_request(self, msg: JSONRPCRequest) -> RequestReceived:
        spec = METHODS.get(msg.method)
        if spec is not None and not spec.sendable_by(not self.is_client):
            raise RemoteProtocolError(f"method not found: {msg.method}", code=METHOD_NOT_FOUND)
        try:
            params = _decode_params(msg, spec)
        except RemoteProtocolError:
            self._unknown_to_modern(msg, spec)  # a removed method is -32601, not -32602
            raise
        meta = _meta_of(params)
        if not self.is_client and isinstance(meta, dict) and PROTOCOL_VERSION in meta:
            ctx = RequestContext.from_meta(meta, self.modern_versions)
            self._check_known(msg.method, spec, ctx.version)
            entry = Incoming(msg.id, msg.method, _MODERN, ctx.version, ctx, ctx.progress_token)
        else:
            entry = self._legacy_entry(msg, params, spec, meta)
        self.requests.add_incoming(entry)
        return RequestReceived(msg.id, msg.method, params, entry.era, entry.version, entry.context)

    def _unknown_to_modern(self, msg: JSONRPCRequest, spec: MethodSpec | None) -> None:
        """Raise -32601 if `msg` names a modern version that does not have its method."""
        try:
            probe = codec.decode_payload(msg.params, _MetaProbe)
        except msgspec.ValidationError:
            return
        version = probe.meta.get(PROTOCOL_VERSION) if isinstance(probe.meta, dict) else None
        if not self.is_client and isinstance(version, str) and version in self.modern_versions:
            self._check_known(msg.method, spec, version)

    def _legacy_entry(
        self, msg: JSONRPCRequest, params: Any, spec: MethodSpec | None, meta: Any
    ) -> Incoming:
        token = meta.get(PROGRESS_TOKEN) if isinstance(meta, dict) else None
        if msg.method == "initialize" and not self.is_client:
            self._begin_session(params)
        elif not self.lifecycle.ready and msg.method != "ping":
            raise RemoteProtocolError(
                f"{msg.method!r} needs a modern request (params._meta must name "
                f"{PROTOCOL_VERSION!r}) or a legacy session (send initialize first)",
                code=-32602,
            )
        version = self.lifecycle.version or LATEST_LEGACY
        self._check_known(msg.method, spec, version)
        return Incoming(msg.id, msg.method, _LEGACY, version, None, token)

    def _begin_session(self, params: Any) -> None:
        self.lifecycle.advance(LifecycleEvent.INITIALIZE)
        self.lifecycle.version = negotiate_legacy(params.protocol_version, self.legacy_versions)
        self.lifecycle.peer_capabilities = msgspec.to_builtins(params.capabilities)
        self.lifecycle.peer_info = msgspec.to_builtins(params.client_info)

    def _check_known(self, method: str, spec: MethodSpec | None, version: str) -> None:
        if spec is not None and version not in spec.versions:
            raise RemoteProtocolError(
                f"method not found: {method} (not part of protocol version {version})",
                code=METHOD_NOT_FOUND,
            )

    def _receive_notification(self, msg: JSONRPCNotification) -> list[Event]:
        spec = METHODS.get(msg.method)
        try:
            params = _decode_params(msg, spec)
        except RemoteProtocolError as exc:
            return [ProtocolViolation(exc, None)]
        if msg.method == "notifications/cancelled":
            return self._on_cancelled(params)
        if msg.method == "notifications/progress":
            return self._on_progress(params)
        if msg.method == "notifications/initialized" and not self.is_client:
            try:
                self.lifecycle.advance(LifecycleEvent.INITIALIZED)
            except LocalProtocolError as exc:
                return [ProtocolViolation(RemoteProtocolError(str(exc)), None)]
        return [NotificationReceived(msg.method, params)]

    def _on_cancelled(self, params: Any) -> list[Event]:
        entry = self.requests.incoming.get(params.request_id)
        if entry is None or entry.cancelled or entry.method == "initialize":
            return []  # unknown, finished or uncancellable: the spec says ignore it
        entry.cancelled = True
        reason = None if params.reason is UNSET else params.reason
        return [CancelReceived(entry.id, reason)]

    def _on_progress(self, params: Any) -> list[Event]:
        entry = self.requests.outgoing_for_progress(params.progress_token)
        if entry is None:
            return []
        if entry.last_progress is not None and params.progress <= entry.last_progress:
            exc = RemoteProtocolError(f"progress for request {entry.id!r} did not increase")
            return [ProtocolViolation(exc, None)]
        entry.last_progress = params.progress
        total = None if params.total is UNSET else params.total
        message = None if params.message is UNSET else params.message
        return [ProgressReceived(entry.id, params.progress, total, message)]

    def _receive_response(self, msg: JSONRPCResultResponse | JSONRPCErrorResponse) -> list[Event]:
        rid = None if msg.id is UNSET else msg.id
        entry = None if rid is None else self.requests.finish_outgoing(rid)
        if entry is None:
            if rid is not None and self.requests.was_abandoned(rid):
                return []
            exc = RemoteProtocolError(f"response to unknown request id {rid!r}")
            return [ProtocolViolation(exc, None)]
        if isinstance(msg, JSONRPCResultResponse):  # (asked first: a hit is cheap, see `events`)
            try:
                result = self._decode_result(entry, msg.result)
            except RemoteProtocolError as exc:
                return [ErrorReceived(entry.id, entry.method, exc)]
            if entry.method == "initialize":
                self._after_initialize(result)
            return [ResponseReceived(entry.id, entry.method, result)]
        err = msg.error
        failure = rpc_error_from(err.code, err.message, None if err.data is UNSET else err.data)
        if entry.method == "initialize":
            self._after_initialize(None)
        return [ErrorReceived(entry.id, entry.method, failure)]

    def _decode_result(self, entry: Outgoing, raw: msgspec.Raw) -> Any:
        spec = entry.spec
        result_type = _result_type(spec)
        try:
            # (MRTR is the modern era's: a legacy answer is always the complete result)
            if spec is not None and spec.input_required and entry.era is _MODERN:
                kind = codec.decode_payload(raw, _ResultKind).result_type
                if kind not in _RESULT_TYPES:
                    raise RemoteProtocolError(f"unknown resultType {kind!r} for {entry.method}")
                if kind == "input_required":
                    result_type = InputRequiredResult
            return codec.decode_payload(raw, result_type)
        except msgspec.ValidationError as exc:
            raise RemoteProtocolError(f"invalid result for {entry.method}: {exc}") from None

    def _after_initialize(self, result: InitializeResult | None) -> None:
        """The handshake's answer came: its result, or None for an error."""
        if result is None:
            self.lifecycle.advance(LifecycleEvent.INITIALIZE_ERROR)
            return
        self.lifecycle.advance(LifecycleEvent.INITIALIZE_RESULT)
        self.lifecycle.version = result.protocol_version
        self.lifecycle.peer_capabilities = msgspec.to_builtins(result.capabilities)
        self.lifecycle.peer_info = msgspec.to_builtins(result.server_info)
        self.lifecycle.instructions = None if result.instructions is UNSET else result.instructions

    # ---- sending ---------------------------------------------------------------------

    def send_request(
        self,
        method: str,
        params: Any = None,
        *,
        meta: dict[str, Any] | None = None,
        progress_token: str | int | None = None,
    ) -> tuple[int, bytes]:
        """Frame a request; returns its fresh id and the bytes to send.

        `meta` is merged into `params._meta` (a modern client passes its per-request keys
        here); `progress_token` asks the peer for progress on this request.

        Raises:
            LocalProtocolError: the method may not be sent now (lifecycle, direction,
                version, or a capability the peer did not declare), or its params cannot
                be written as JSON (nothing is recorded then).
        """
        spec = METHODS.get(method)
        if progress_token is not None:
            meta = {**(meta or {}), PROGRESS_TOKEN: progress_token}
        modern_version = meta.get(PROTOCOL_VERSION) if meta else None
        lifecycle = self.lifecycle
        if modern_version is not None or self._cleared.get(method) != (
            lifecycle.state,
            lifecycle.version,
            lifecycle.peer_capabilities,
        ):  # (not found sendable in this same lifecycle before: see `_cleared`)
            self._check_sendable(method, spec, modern_version)
        era = _LEGACY if modern_version is None else _MODERN
        rid = self.requests.add_outgoing(method, spec, era, progress_token)
        try:
            # (`_with_meta`'s first case without the call: most requests carry no `_meta`)
            payload = _with_meta(params, meta) if meta else UNSET if params is None else params
            frame = codec.encode(JSONRPCRequest(id=rid, method=method, params=payload))
        except (TypeError, RecursionError, msgspec.EncodeError) as exc:
            self.requests.finish_outgoing(rid)
            raise LocalProtocolError(f"the params of {method} are not JSON: {exc}") from exc
        if method == "initialize":
            self.lifecycle.advance(LifecycleEvent.INITIALIZE)
        return rid, frame

    def _check_sendable(self, method: str, spec: MethodSpec | None, modern_version: Any) -> None:
        lifecycle = self.lifecycle
        if spec is not None and not spec.sendable_by(self.is_client):
            raise LocalProtocolError(
                f"the {'client' if self.is_client else 'server'} cannot send {method}"
            )
        if modern_version is not None:  # stateless: the request itself names its version
            # No capability check here: a modern client may call any method and the server
            # answers -32601 for what it does not offer (spec: server/discover is optional).
            self._check_version(method, spec, modern_version)
            return
        if method != "initialize" and not lifecycle.can_send(method):
            raise LocalProtocolError(f"cannot send {method} in state {lifecycle.state.value}")
        if lifecycle.version is not None:
            self._check_version(method, spec, lifecycle.version)
        if lifecycle.ready:
            self._check_capability(method, spec, lifecycle.peer_capabilities)
        self._cleared[method] = (lifecycle.state, lifecycle.version, lifecycle.peer_capabilities)

    def _check_version(self, method: str, spec: MethodSpec | None, version: str) -> None:
        if spec is not None and version not in spec.versions:
            raise LocalProtocolError(f"{method} is not part of protocol version {version}")

    def _check_capability(
        self, method: str, spec: MethodSpec | None, caps: dict[str, Any] | None
    ) -> None:
        if spec is None or not spec.capability or caps is None:
            return
        if not has_capability(caps, spec.capability):
            raise LocalProtocolError(
                f"cannot send {method}: the peer did not declare the "
                f"{'.'.join(spec.capability)!r} capability"
            )

    def send_notification(self, method: str, params: Any = None) -> bytes:
        """Frame a notification. `notifications/initialized` completes the client's handshake.

        Raises:
            LocalProtocolError: not allowed in the current state or direction.
        """
        spec = METHODS.get(method)
        if spec is not None and not spec.sendable_by(self.is_client):
            raise LocalProtocolError(
                f"the {'client' if self.is_client else 'server'} cannot send {method}"
            )
        if method == "notifications/initialized" and self.is_client:
            self.lifecycle.advance(LifecycleEvent.INITIALIZED)
        return codec.encode(JSONRPCNotification(method=method, params=_with_meta(params, None)))

    def send_result(self, request_id: RequestId, result: Any) -> bytes | None:
        """Frame the answer to a request we received.

        Returns None when nothing is to be sent: the request was cancelled, or it belongs to
        a batch still waiting for other answers. Modern results get `resultType` stamped.

        Raises:
            LocalProtocolError: no such request is waiting for an answer.
        """
        entry = self._finish_incoming(request_id)
        if entry.era is _MODERN:
            result = _stamp_result_type(result)
        elif entry.method == "initialize":
            self.lifecycle.advance(LifecycleEvent.INITIALIZE_RESULT)
        return self._reply(entry, JSONRPCResultResponse(id=request_id, result=result))

    def send_error(self, request_id: RequestId, exc: BaseException) -> bytes | None:
        """Frame an error answer (through the one exception → JSON-RPC mapping)."""
        entry = self._finish_incoming(request_id)
        if entry.method == "initialize" and not self.is_client:
            self.lifecycle.advance(LifecycleEvent.INITIALIZE_ERROR)
        return self._reply(entry, _error_message(request_id, exc))

    def _finish_incoming(self, request_id: RequestId) -> Incoming:
        entry = self.requests.finish_incoming(request_id)
        if entry is None:
            raise LocalProtocolError(f"no request {request_id!r} is waiting for an answer")
        return entry

    def _reply(self, entry: Incoming, message: JSONRPCMessage | None) -> bytes | None:
        if entry.batch is None:
            return None if entry.cancelled or message is None else codec.encode(message)
        batch = self._batches[entry.batch]
        batch.waiting.discard(entry.id)
        if not entry.cancelled and message is not None:
            batch.replies.append(message)
        return self._flush_batch(entry.batch)

    def send_cancelled(self, request_id: RequestId) -> bytes | None:
        """Record that we stopped handling a request the peer cancelled (no answer is due).

        Returns the reply of the batch it belonged to, if that completed the batch.
        """
        entry = self.requests.finish_incoming(request_id)
        return None if entry is None else self._reply(entry, None)

    def _flush_batch(self, bid: int) -> bytes | None:
        batch = self._batches[bid]
        if batch.waiting:
            return None
        del self._batches[bid]
        return codec.encode_batch(batch.replies) if batch.replies else None

    def send_progress(
        self,
        request_id: RequestId,
        progress: float,
        total: float | None = None,
        message: str | None = None,
    ) -> bytes | None:
        """Frame progress for a request we are handling; None if the peer did not ask for
        it, or the request is cancelled. Progress must increase (spec: progress).

        Raises:
            LocalProtocolError: progress did not increase, or no such request.
        """
        entry = self.requests.incoming.get(request_id)
        if entry is None:
            raise LocalProtocolError(f"no request {request_id!r} is in progress")
        if entry.progress_token is None or entry.cancelled:
            return None
        if entry.last_progress is not None and progress <= entry.last_progress:
            raise LocalProtocolError(
                f"progress must increase ({progress} after {entry.last_progress})"
            )
        entry.last_progress = progress
        params: dict[str, Any] = {"progressToken": entry.progress_token, "progress": progress}
        if total is not None:
            params["total"] = total
        if message is not None:
            params["message"] = message
        return codec.encode(JSONRPCNotification(method="notifications/progress", params=params))

    def cancel(self, request_id: RequestId, reason: str | None = None) -> bytes | None:
        """End a request we sent; returns the `notifications/cancelled` frame to send, or
        None if it had already ended. A late answer to it is then ignored."""
        entry = self.requests.finish_outgoing(request_id, abandoned=True)
        if entry is None:
            return None
        if entry.method == "initialize":  # the spec forbids cancelling initialize
            return None
        params: dict[str, Any] = {"requestId": request_id}
        if reason is not None:
            params["reason"] = reason
        return codec.encode(JSONRPCNotification(method="notifications/cancelled", params=params))

    def abandon(self, request_id: RequestId) -> None:
        """End a request we sent without telling the peer (e.g. after a timeout where the
        caller sends its own cancellation)."""
        self.requests.finish_outgoing(request_id, abandoned=True)

    def close(self, reason: MCPKitError | None = None) -> list[ErrorReceived]:
        """End every request we sent with an error; nothing more can be sent or received."""
        error = reason or ClosedError("connection closed")
        events: list[ErrorReceived] = []
        for rid in list(self.requests.outgoing):
            entry = self.requests.finish_outgoing(rid)
            if entry is not None:
                events.append(ErrorReceived(rid, entry.method, error))
        self.requests.incoming.clear()
        self.lifecycle.advance(LifecycleEvent.CLOSE)
        return events

    def _violation(self, exc: ProtocolError) -> ProtocolViolation:
        reply = codec.encode(_error_message(exc.request_id, exc, self.lifecycle.version))
        return ProtocolViolation(exc, reply)


def _result_type(spec: MethodSpec | None) -> Any:
    return _ANY_RESULT if spec is None or spec.result is None else spec.result


def _decode_params(msg: JSONRPCRequest | JSONRPCNotification, spec: MethodSpec | None) -> Any:
    type_: Any = dict[str, Any] if spec is None else spec.params
    try:
        return codec.decode_payload(msg.params, type_)
    except msgspec.ValidationError as exc:
        rid = msg.id if isinstance(msg, JSONRPCRequest) else None
        raise RemoteProtocolError(
            f"invalid params for {msg.method}: {exc}", code=-32602, request_id=rid
        ) from None


def _meta_of(params: Any) -> Any:
    if isinstance(params, dict):
        return params.get("_meta")
    meta = getattr(params, "meta", None)
    return None if meta is UNSET else meta


def _with_meta(params: Any, meta: dict[str, Any] | None) -> Any:
    """Merge `meta` into params' `_meta`; absent params stay absent (UNSET)."""
    if not meta:
        return UNSET if params is None else params
    if params is None:
        return {"_meta": meta}
    if isinstance(params, dict):
        return {**params, "_meta": {**params.get("_meta", {}), **meta}}
    old = getattr(params, "meta", UNSET)
    return msgspec.structs.replace(params, meta={**({} if old is UNSET else old), **meta})


def _stamp_result_type(result: Any) -> Any:
    if isinstance(result, dict):
        return result if "resultType" in result else {**result, "resultType": "complete"}
    if getattr(result, "result_type", "complete") is UNSET:
        return msgspec.structs.replace(result, result_type="complete")
    return result


def _error_message(
    request_id: RequestId | None, exc: BaseException, version: str | None = None
) -> JSONRPCErrorResponse:
    """The error response for `exc`. An unknown id is `null` up to 2025-06-18 (JSON-RPC 2.0,
    and those schemas require an id) and omitted from 2025-11-25 on (the MCP schema)."""
    code, message, data = error_for(exc)
    error = Error(code=code, message=message, data=UNSET if data is None else data)
    if request_id is None and (version is None or version >= NULL_ID_UNTIL):
        return JSONRPCErrorResponse(error=error)
    return JSONRPCErrorResponse(id=request_id, error=error)
