"""The Streamable HTTP client transport, both eras.

Layer: transports. It moves frames: each `send()` is one POST, and whatever the server answers
(one JSON message, `202`, or an SSE stream of messages) is queued for `receive()`. It reads
a frame's JSON only for what the HTTP binding itself requires, never to answer anything:

- modern frames (`params._meta` names `io.modelcontextprotocol/protocolVersion`, spec
  2026-07-28 basic/transports/streamable-http §Request Headers) are stamped with
  `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` and, through the `param_headers` hook,
  `Mcp-Param-*`, values encoded by `encode_header_value`;
- legacy sessions (2025-03-26..2025-11-25 §Session Management): the `Mcp-Session-Id` of the
  `initialize` response and the negotiated version (from its result) go on every later
  request; after `notifications/initialized` a GET stream is opened for server-initiated
  messages (`405` means the server offers none); `aclose()` DELETEs the session.

Why exchanges run apart from `send()`: it must return once the frame is on its way, since a
legacy server may send a request in the middle of a response stream that the client must
answer (another POST) before that stream ends. An exchange is a background task (a plain
asyncio task: a task group's bookkeeping per POST costs more than the POST), except the
usual legacy one: on a kept-alive connection it is started without a task
(`Wire.post_now`), and a whole JSON answer is taken in the wire's I/O callback; any other
answer (SSE, an error status, a body still coming) goes on in a task from there. Messages
are queued (`Inbox`) as they arrive; a body that is not JSON-RPC (an HTML page, an OAuth
error) is never queued.

Requests go over a `Wire` (`http_wire`: the lean HTTP/1.1 one, or httpx for a caller's own
client and for proxies). With an `HttpAuth` (`mcpkit.auth.OAuth`) every request carries its
headers, and a 401/403 it answers with new credentials sends the request again.

Failures, so that no caller waits forever: an HTTP error with a JSON-RPC body queues that
body (an error without an id gets the id of the request it answers); without one, a request
gets a synthesized JSON-RPC error (-32601 for 404/405, else -32603) naming the status. A
refused connection fails the transport with `ConnectError` (`BrokenError` once the server
has answered before), and so does a `404` without a JSON-RPC body from a server that has never
sent a message (a wrong URL: nothing speaks MCP there). A `404` to a request carrying a
session id makes the transport replay its own handshake once and send the request again in
the new session; if that fails, `BrokenError("session expired")`. A modern request whose
frame the peer cancels (`notifications/cancelled`) has its POST closed instead, which is how
modern HTTP cancels; the notification itself is not sent.

A legacy SSE stream that ends early is resumed (`http_resume`): after `retry` ms, a GET with
`Last-Event-ID`. The 2024-11-05 HTTP+SSE transport is `sse_legacy`.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_TIMEOUT",
    "HttpAuth",
    "HttpClientTransport",
    "ParamHeaders",
    "decode_header_value",
    "encode_header_value",
    "error_response",
    "http_client",
    "modern_headers",
]

import asyncio
import base64
import binascii
import contextlib
import functools
import json
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Final, Protocol, final

import anyio
import msgspec
from msgspec import UNSET, Raw

from mcpkit.protocol.errors import (
    AuthError,
    BrokenError,
    ClosedError,
    ConnectError,
    TransportError,
)
from mcpkit.transports.base import FrameSink
from mcpkit.transports.http_resume import ResumableStream
from mcpkit.transports.http_sse import SSEParser
from mcpkit.transports.http_wire import (
    Wire,
    WireConnectError,
    WireError,
    WireResponse,
    content_type,
    open_wire,
)
from mcpkit.transports.inbox import Inbox

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0
"""Seconds to connect, write a request, or wait for the server to close a session."""

ParamHeaders = Callable[[str], Mapping[str, str]]
"""For a tool name, its `x-mcp-header` annotations: argument name → header name (without the
`Mcp-Param-` prefix). The client layer builds it from `tools/list`."""

_PROTOCOL_VERSION_KEY = "io.modelcontextprotocol/protocolVersion"
_NAME_PARAM = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}
_NAME_PARAM.update(dict.fromkeys(("tasks/get", "tasks/update", "tasks/cancel"), "taskId"))
_SENTINEL_START, _SENTINEL_END = "=?base64?", "?="
_ACCEPT = "application/json, text/event-stream"
_METHOD_NOT_FOUND, _INTERNAL_ERROR = -32601, -32603
_decode = msgspec.json.Decoder().decode
_ABSENT: Final = Raw()
_AUTH_TRIES = 3  # challenges answered per request (a 401, then step-ups) before giving up
_REFUSED = frozenset({400, 404, 405})  # what a server without Streamable HTTP answers a POST


class HttpAuth(Protocol):
    """What the HTTP transport asks of an authorization layer (`mcpkit.auth.OAuth`):
    headers for each request, and whether a 401/403 got new credentials (then the request
    is sent again, at most `_AUTH_TRIES` times). `challenged` raises `AuthError` when
    authorization cannot be had; that request is answered with the reason."""

    async def headers(self, method: str, url: str) -> dict[str, str]: ...

    async def challenged(
        self, status: int, headers: Mapping[str, str], url: str, sent: Mapping[str, str]
    ) -> bool: ...

    async def aclose(self) -> None: ...


# ---- header values (spec 2026-07-28 basic/transports/streamable-http §Value Encoding) ------


def encode_header_value(value: str | int | bool) -> str:
    """A value as an `Mcp-Name`/`Mcp-Param-*` header: booleans `true`/`false`, integers in
    decimal, strings as they are unless they hold non-ASCII or control characters, start or
    end with whitespace, or look like the sentinel: then `=?base64?<base64 of UTF-8>?=`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    plain = all(" " <= char <= "~" for char in value) and value == value.strip(" ")
    if plain and not (value.startswith(_SENTINEL_START) and value.endswith(_SENTINEL_END)):
        return value
    encoded = base64.b64encode(value.encode("utf-8")).decode("ascii")
    return f"{_SENTINEL_START}{encoded}{_SENTINEL_END}"


def decode_header_value(header: str) -> str:
    """The inverse of `encode_header_value` for strings.

    Raises:
        ValueError: the sentinel wraps something that is not base64 of UTF-8.
    """
    if not (header.startswith(_SENTINEL_START) and header.endswith(_SENTINEL_END)):
        return header
    inner = header[len(_SENTINEL_START) : len(header) - len(_SENTINEL_END)]
    try:
        return base64.b64decode(inner, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError(f"malformed base64 header value {header!r}") from exc


def modern_headers(message: Any, param_headers: ParamHeaders | None = None) -> dict[str, str]:
    """The headers a modern request or notification must carry; `{}` for anything else
    (a legacy frame, a response, a batch)."""
    if not isinstance(message, dict) or not isinstance(message.get("method"), str):
        return {}
    params = message.get("params")
    params = params if isinstance(params, dict) else {}
    meta = params.get("_meta")
    version = meta.get(_PROTOCOL_VERSION_KEY) if isinstance(meta, dict) else None
    if not isinstance(version, str):
        return {}
    method = message["method"]
    headers = {"MCP-Protocol-Version": version, "Mcp-Method": method}
    name = params.get(_NAME_PARAM.get(method, ""))
    if isinstance(name, str | int):
        headers["Mcp-Name"] = encode_header_value(name)
    if method == "tools/call" and param_headers is not None and isinstance(name, str):
        headers.update(_param_headers(params.get("arguments"), param_headers(name)))
    return headers


def _param_headers(arguments: Any, annotations: Mapping[str, str]) -> dict[str, str]:
    """`Mcp-Param-<Name>` for each annotated argument present with a string, integer or
    boolean value; absent and null values send no header (spec: server/tools §x-mcp-header)."""
    if not isinstance(arguments, dict):
        return {}
    headers = {}
    for argument, header in annotations.items():
        value = arguments.get(argument)
        if isinstance(value, str | int):  # bool is an int
            headers[f"Mcp-Param-{header}"] = encode_header_value(value)
    return headers


# ---- what one frame is, as far as HTTP cares ------------------------------------------------


class _Exchange(msgspec.Struct):
    """One POST: the frame's request id (None for notifications and responses), its method,
    whether it is modern, and whether its response has been queued yet."""

    frame: bytes
    message: Any
    headers: dict[str, str]
    request_id: str | int | None = None
    method: str | None = None
    modern: bool = False
    answered: bool = False
    renewed: bool = False  # re-sent once in a new session after a 404
    challenges: int = 0  # 401/403s answered by the auth layer
    task: asyncio.Task[None] | None = None


def _parse_frame(frame: bytes) -> Any:
    try:
        return _decode(frame)
    except msgspec.DecodeError:
        return None  # not ours to judge: the server answers it


class _Received(msgspec.Struct):
    """What the transport reads of a message it receives, the rest being the peer's to read
    (a full parse into dicts cost more than the rest of the exchange's bookkeeping): its
    `jsonrpc` member, its id, whether it is a request or notification (`method`) or an
    error, and its result left undecoded."""

    jsonrpc: Any = None
    id: Any = None
    method: Any = UNSET
    error: Raw = _ABSENT
    result: Raw = _ABSENT


class _Versioned(msgspec.Struct):
    version: Any = msgspec.field(default=None, name="protocolVersion")


_received_decoder: Final[msgspec.json.Decoder[_Received | list[_Received]]] = msgspec.json.Decoder(
    _Received | list[_Received]
)
_versioned_decoder: Final = msgspec.json.Decoder(_Versioned)


def _received(frame: bytes) -> _Received | list[_Received] | None:
    """The outline of a message or batch received; None for anything that is not one."""
    try:
        return _received_decoder.decode(frame)
    except msgspec.DecodeError:
        return None


def _is_json_rpc(message: _Received | list[_Received] | None) -> bool:
    """A JSON-RPC 2.0 message or a non-empty batch of them (by its `jsonrpc` member)."""
    if isinstance(message, _Received):
        return bool(message.jsonrpc == "2.0")
    return bool(message) and all(m.jsonrpc == "2.0" for m in message or ())


def _initialize_version(result: Raw) -> str | None:
    """The `protocolVersion` of an `initialize` result, if it names one."""
    try:
        version = _versioned_decoder.decode(result).version
    except msgspec.DecodeError:
        return None
    return version if isinstance(version, str) else None


def error_response(request_id: str | int, code: int, message: str) -> bytes:
    """A JSON-RPC error frame a transport synthesizes so that no request waits forever."""
    body = {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}
    return json.dumps(body).encode()


async def _result_of(response: WireResponse, request_id: str) -> Any:
    """The `result` answering `request_id` in a JSON or SSE response (None if absent)."""
    frames: list[Any] = []
    if content_type(response) == "text/event-stream":
        parser = SSEParser()
        async for chunk in response.chunks():
            frames.extend(_parse_frame(e.data.encode()) for e in parser.feed(chunk) if e.data)
            if any(isinstance(f, dict) and f.get("id") == request_id for f in frames):
                break
    else:
        frames.append(_parse_frame(await response.read()))
    for frame in frames:
        if isinstance(frame, dict) and frame.get("id") == request_id:
            return frame.get("result")
    return None


@final
class HttpClientTransport:
    """The client end of Streamable HTTP; made by `http_client` (see the module docstring).

    `session_id` and `protocol_version` show the legacy session once it is established;
    `refused()` whether the last POST got what a server without Streamable HTTP answers.
    """

    def __init__(
        self,
        url: str,
        wire: Wire,
        *,
        timeout: float,
        headers: Mapping[str, str] | None = None,
        param_headers: ParamHeaders | None = None,
        auth: HttpAuth | None = None,
    ) -> None:
        self.url = url
        self._auth = auth
        self._auth_headers: dict[str, str] = {}  # the latest, for GETs and DELETE
        self._headers = dict(headers or {})
        self._wire = wire
        self._timeout = timeout
        self._param_headers = param_headers
        self._inbox = Inbox(f"HTTP transport ({url})")
        self._closed = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._reached = False  # has the server ever answered? (ConnectError vs BrokenError)
        self._spoken = False  # has it ever sent a JSON-RPC message?
        self._modern: dict[str | int, _Exchange] = {}
        self._initialize_id: str | int | None = None
        self._handshake: list[Any] = []  # our initialize + initialized, replayed on a 404
        self._renew_lock = anyio.Lock()
        self.renewals = 0
        self._last_status: int | None = None
        self.session_id: str | None = None
        self.protocol_version: str | None = None

    def describe(self) -> str:
        return self.url

    def refused(self) -> bool:
        """Whether the last POST was answered 400, 404 or 405: no Streamable HTTP here,
        maybe the 2024-11-05 HTTP+SSE transport (the client layer's fallback)."""
        return self._last_status in _REFUSED

    async def send(self, frame: bytes) -> None:
        """Start the POST of one frame and return; its answers arrive through `receive()`."""
        self._check_usable()
        exchange = self._exchange_for(frame)
        if exchange.method == "notifications/cancelled" and self._cancel_modern(exchange):
            return
        if exchange.modern and exchange.request_id is not None:
            self._modern[exchange.request_id] = exchange
        elif self._auth is None and self._wire.post_now(
            self.url, exchange.headers, frame, functools.partial(self._answered, exchange)
        ):
            return  # (legacy, on a kept-alive connection: no task unless the answer needs one)
        exchange.task = self._spawn(self._run_post(exchange))

    async def receive(self) -> bytes:
        """The next message from the server, in arrival order.

        Raises:
            ConnectError: the server could not be reached.
            BrokenError: the connection or the legacy session was lost.
            ClosedError: after `aclose()`.
        """
        return await self._inbox.get()

    def push_to(self, sink: FrameSink) -> bool:
        """Hand each message to `sink` as it is read (`PushTransport`)."""
        return self._inbox.push_to(sink)

    def resume_push(self) -> None:
        """Nothing to resume: every answer is read whole by its own exchange."""

    async def aclose(self) -> None:
        """Stop every exchange, DELETE the legacy session (bounded), stop `receive()`.
        Idempotent."""
        if self._closed:
            return
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        with anyio.CancelScope(shield=True):
            if self.session_id is not None and self._inbox.failure is None:
                with anyio.move_on_after(self._timeout), contextlib.suppress(WireError):
                    response = await self._wire.open("DELETE", self.url, self._session_headers())
                    await response.aclose()
            self._inbox.close()

    # ---- outgoing ---------------------------------------------------------------------

    def _check_usable(self) -> None:
        if self._closed:
            raise ClosedError(f"HTTP transport ({self.url}) is closed")
        if self._inbox.failure is not None:
            raise self._inbox.failure

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run `work` in the background until it ends or `aclose()` cancels it. A plain
        task: a task group's bookkeeping per POST costs more than the POST here."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _exchange_for(self, frame: bytes) -> _Exchange:
        message = _parse_frame(frame)
        headers = {**self._headers, "Content-Type": "application/json", "Accept": _ACCEPT}
        stamped = modern_headers(message, self._param_headers)
        headers.update(stamped or self._session_headers())
        exchange = _Exchange(frame, message, headers, modern=bool(stamped))
        if isinstance(message, dict):
            method, rid = message.get("method"), message.get("id")
            exchange.method = method if isinstance(method, str) else None
            if exchange.method is not None and isinstance(rid, str | int):
                exchange.request_id = rid
            if exchange.method == "initialize" and not exchange.modern:
                self._initialize_id = exchange.request_id
                self._handshake = [message]
            elif exchange.method == "notifications/initialized" and len(self._handshake) == 1:
                self._handshake.append(message)
        return exchange

    def _session_headers(self) -> dict[str, str]:
        headers = {**self._headers, **self._auth_headers}
        if self.session_id is not None:
            headers["Mcp-Session-Id"] = self.session_id
        if self.protocol_version is not None:
            headers["MCP-Protocol-Version"] = self.protocol_version
        return headers

    def _cancel_modern(self, exchange: _Exchange) -> bool:
        """Modern HTTP cancels a request by closing its stream; True if that was done."""
        params = exchange.message.get("params") if isinstance(exchange.message, dict) else None
        target = params.get("requestId") if isinstance(params, dict) else None
        cancelled = self._modern.get(target) if isinstance(target, str | int) else None
        if cancelled is None:
            return False
        cancelled.answered = True  # the peer stopped waiting: synthesize nothing
        if cancelled.task is not None:
            cancelled.task.cancel()
        return True

    # ---- one exchange (a background task; never raises) ------------------------------

    def _answered(self, exchange: _Exchange, result: WireResponse | WireError | None) -> None:
        """The end of a POST started by `Wire.post_now`, in the wire's I/O callback. The
        usual answer (a whole JSON body, 2xx) is taken here; anything else goes on in a
        task, as `_run_post` would from this point; a request that never got through is
        sent again that way."""
        if self._closed:
            return
        try:
            if isinstance(result, WireError):
                self._answer(exchange, _INTERNAL_ERROR, f"HTTP exchange failed: {result!r}")
            elif (
                result is None
                or result.status >= 300
                or content_type(result) == "text/event-stream"
                or (body := result.take_whole()) is None
            ):
                exchange.task = self._spawn(self._run_post(exchange, result))
                return  # (the task ends the exchange)
            else:
                self._reached = True
                self._last_status = result.status
                self._take_body(result, body, exchange)
        except Exception as exc:  # a bug must not go unanswered (nor escape into the loop)
            logger.exception("HTTP exchange with %s failed", self.url)
            self._answer(exchange, _INTERNAL_ERROR, f"HTTP exchange failed: {exc!r}")
        self._ended(exchange)

    async def _run_post(self, exchange: _Exchange, response: WireResponse | None = None) -> None:
        """POST the exchange and take its answer (starting from `response`, its answer
        already in, when given)."""
        try:
            while await self._post_once(exchange, response):
                response = None
                exchange.headers.update(self._session_headers())  # the renewed session
        except asyncio.CancelledError:
            return  # cancelled by us (a modern cancel, or aclose): the task simply ends
        except AuthError as exc:
            self._answer(exchange, _INTERNAL_ERROR, f"authorization failed: {exc}")
        except WireConnectError as exc:
            self._unreachable(exchange, exc)
        except WireError as exc:
            self._answer(exchange, _INTERNAL_ERROR, f"HTTP exchange failed: {exc!r}")
        except Exception as exc:  # a bug must not go unanswered
            logger.exception("HTTP exchange with %s failed", self.url)
            self._answer(exchange, _INTERNAL_ERROR, f"HTTP exchange failed: {exc!r}")
        finally:
            self._ended(exchange)

    def _ended(self, exchange: _Exchange) -> None:
        """An exchange is over: forget it; the handshake's end opens the GET stream."""
        if exchange.request_id is not None:
            self._modern.pop(exchange.request_id, None)
        if exchange.method == "notifications/initialized" and not self._closed:
            self._spawn(self._run_get_stream())

    async def _post_once(self, exchange: _Exchange, response: WireResponse | None) -> bool:
        """POST the exchange (unless its `response` is in already) and take its answer;
        True if it must be re-sent because its session was lost and a new one is in place."""
        headers = exchange.headers
        if response is None:
            if self._auth is not None:
                self._auth_headers = await self._auth.headers("POST", self.url)
                headers = {**headers, **self._auth_headers}
            response = await self._wire.open("POST", self.url, headers, exchange.frame)
        try:
            self._reached = True
            self._last_status = response.status
            if await self._answered_challenge(response, exchange, headers):
                return True
            stale = exchange.headers.get("Mcp-Session-Id")
            if response.status == 404 and stale is not None:
                if not exchange.renewed and await self._renew_session(stale):
                    exchange.renewed = True
                    return True
                self._fail(BrokenError(f"{self.url}: session expired (HTTP 404)"))
                return False
            await self._take_response(response, exchange)
            return False
        finally:
            await response.aclose()

    async def _answered_challenge(
        self, response: WireResponse, exchange: _Exchange, sent: Mapping[str, str]
    ) -> bool:
        """A 401/403 the auth layer answered with new credentials: True to send again."""
        if response.status not in (401, 403) or self._auth is None:
            return False
        if exchange.challenges >= _AUTH_TRIES:
            return False
        exchange.challenges += 1
        return await self._auth.challenged(response.status, response.headers, self.url, sent)

    async def _take_response(self, response: WireResponse, exchange: _Exchange) -> None:
        if content_type(response) == "text/event-stream":
            self._take_session(response, exchange)
            await self._read_post_stream(response, exchange)
            self._settle(response, exchange)
        else:
            self._take_body(response, await response.read(), exchange)

    def _take_body(self, response: WireResponse, body: bytes, exchange: _Exchange) -> None:
        """Take a whole (non-SSE) answer to a POST."""
        self._take_session(response, exchange)
        if body.strip():
            self._deliver_body(body, exchange)
        self._settle(response, exchange)

    def _take_session(self, response: WireResponse, exchange: _Exchange) -> None:
        if exchange.method == "initialize" and response.status < 300:
            self.session_id = response.headers.get("mcp-session-id") or self.session_id

    def _settle(self, response: WireResponse, exchange: _Exchange) -> None:
        """After a POST's answer was read: a request it did not answer gets an error."""
        status = response.status
        if status == 404 and not self._spoken and not exchange.answered:
            self._fail(ConnectError(f"{self.url}: HTTP 404, no MCP endpoint at this URL"))
            return
        if status >= 400:
            code = _METHOD_NOT_FOUND if status in (404, 405) else _INTERNAL_ERROR
            self._answer(exchange, code, f"HTTP {status} {response.reason} from {self.url}")
        elif exchange.request_id is not None:
            self._answer(exchange, _INTERNAL_ERROR, f"HTTP {status} from {self.url}: no response")

    def _stream(self, exchange: _Exchange | None) -> ResumableStream:
        """A resumable SSE stream whose messages are queued as answers to `exchange`; it is
        done when that is answered, or when its session is replaced or the transport closes."""
        session = self.session_id
        return ResumableStream(
            self._wire,
            self.url,
            self._session_headers,
            lambda data: self._deliver(data, _received(data), exchange),
            lambda: (
                self._closed
                or self.session_id != session
                or (exchange is not None and exchange.answered)
            ),
        )

    async def _read_post_stream(self, response: WireResponse, exchange: _Exchange) -> None:
        """Read a POST's SSE stream; if it ends before the response, resume it."""
        stream = self._stream(exchange)
        try:
            await stream.read(response)
        except WireError as exc:
            if stream.cursor.last_id is None:
                raise  # nothing to resume from
            logger.debug("the SSE stream of %s broke: %r", self.url, exc)
        if exchange.request_id is None or stream.done() or stream.cursor.last_id is None:
            return
        if not await stream.resume():
            why = f"the SSE stream of {self.url} ended before the response and resuming failed"
            self._answer(exchange, _INTERNAL_ERROR, why)

    def _deliver_body(self, body: bytes, exchange: _Exchange) -> None:
        message = _received(body)
        if not _is_json_rpc(message):
            # not JSON-RPC (an HTML page, an OAuth error object): never queue it, or the peer
            # would answer it, that answer's POST could get the same, and so on forever;
            # the request gets a synthesized error naming the status instead
            logger.debug("%s answered a non-JSON-RPC body: %.200r", self.url, body)
            return
        if (
            isinstance(message, _Received)
            and message.error
            and message.id is None
            and exchange.request_id is not None
        ):  # an HTTP error names no id: it gets the id of the request it answers
            body = json.dumps({**_decode(body), "id": exchange.request_id}).encode()
            message.id = exchange.request_id
        self._deliver(body, message, exchange)

    def _deliver(
        self, frame: bytes, message: _Received | list[_Received] | None, exchange: _Exchange | None
    ) -> None:
        """Queue one message, noting whether it answers this exchange or `initialize`."""
        self._spoken = True
        items = [message] if isinstance(message, _Received) else message or ()
        for item in items:
            if item.method is not UNSET:
                continue
            rid = item.id
            if exchange is not None and rid is not None and rid == exchange.request_id:
                exchange.answered = True
            if rid is not None and rid == self._initialize_id and item.result:
                self.protocol_version = _initialize_version(item.result)
        self._inbox.put(frame)

    def _answer(self, exchange: _Exchange, code: int, message: str) -> None:
        """Unless its response came, answer the request with a synthesized error."""
        if exchange.request_id is None:
            logger.warning("%s (for a %s)", message, exchange.method or "response")
            return
        if exchange.answered:
            return
        exchange.answered = True
        self._inbox.put(error_response(exchange.request_id, code, message))

    def _unreachable(self, exchange: _Exchange, exc: Exception) -> None:
        """A refused connection: the wrong address at first, a server down later."""
        why = f"cannot reach {self.url}: {exc or type(exc).__name__}"
        if self._reached:
            self._answer(exchange, _INTERNAL_ERROR, why)
        else:
            self._fail(ConnectError(why))

    # ---- a lost legacy session -------------------------------------------------------

    async def _renew_session(self, stale: str) -> bool:
        """Start a new session in place of `stale` by replaying our handshake; True if one is
        in place (maybe renewed by a concurrent exchange). Failures are logged, not raised."""
        async with self._renew_lock:
            if self.session_id != stale:
                return self.session_id is not None
            if len(self._handshake) != 2 or self._closed:
                return False
            self.session_id = None
            self.renewals += 1
            try:
                with anyio.fail_after(self._timeout):
                    renewed = await self._replay_handshake()
            except (WireError, TimeoutError, ValueError) as exc:
                logger.warning("%s lost the session and re-initializing failed: %r", self.url, exc)
                return False
            if renewed:
                logger.warning("%s lost the session (HTTP 404); started a new one", self.url)
                self._spawn(self._run_get_stream())
            return renewed

    async def _replay_handshake(self) -> bool:
        initialize, initialized = self._handshake
        rid = f"mcpkit-reinitialize-{self.renewals}"
        headers = {**self._headers, **self._auth_headers}
        headers.update({"Content-Type": "application/json", "Accept": _ACCEPT})
        frame = json.dumps({**initialize, "id": rid}).encode()
        response = await self._wire.open("POST", self.url, headers, frame)
        try:
            if response.status >= 300:
                return False
            session = response.headers.get("mcp-session-id")
            result = await _result_of(response, rid)
        finally:
            await response.aclose()
        version = result.get("protocolVersion") if isinstance(result, dict) else None
        if session is None or version != self.protocol_version:
            return False  # a server that changed its protocol version is a new peer
        self.session_id = session
        frame = json.dumps(initialized).encode()
        response = await self._wire.open("POST", self.url, self._session_headers(), frame)
        await response.aclose()
        return response.status < 300

    def _fail(self, error: TransportError) -> None:
        self._inbox.fail(error)  # raised after what was queued before it

    async def _run_get_stream(self) -> None:
        """The legacy GET stream of server-initiated messages (`405`: none), resumed if it drops."""
        stream = self._stream(None)
        try:
            with contextlib.suppress(WireError):
                if not await stream.reconnect(None):
                    return
            await stream.resume(backoff=True)
        except asyncio.CancelledError:
            return  # aclose()
        except WireError as exc:
            logger.debug("the GET stream of %s ended: %r", self.url, exc)
        except Exception:
            logger.exception("the GET stream of %s failed", self.url)


@contextlib.asynccontextmanager
async def http_client(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    httpx_client: httpx.AsyncClient | None = None,
    param_headers: ParamHeaders | None = None,
    auth: HttpAuth | None = None,
) -> AsyncIterator[HttpClientTransport]:
    """Talk Streamable HTTP to the MCP endpoint at `url`.

    Args:
        headers: sent with every request (e.g. `Authorization`).
        timeout: seconds to connect and write; reads wait as long as the server streams
            (request deadlines are the client layer's).
        httpx_client: make the requests with this client (its settings, auth, transport,
            proxies) and leave it open; by default `http_wire.open_wire` picks the wire.
        param_headers: the `x-mcp-header` annotations per tool, for `Mcp-Param-*` headers.
        auth: authorizes requests and answers 401/403 (`mcpkit.auth.OAuth`); closed with
            the block.

    A refused connection surfaces as `ConnectError` from `receive()`/`send()`. Exceptions
    from the block propagate as they are.
    """
    wire = open_wire(url, timeout, httpx_client)
    transport = HttpClientTransport(
        url, wire, timeout=timeout, headers=headers, param_headers=param_headers, auth=auth
    )
    try:
        yield transport
    finally:
        with anyio.CancelScope(shield=True):
            await transport.aclose()
            await wire.aclose()
            if auth is not None:
                await auth.aclose()
