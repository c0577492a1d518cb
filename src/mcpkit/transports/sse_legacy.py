"""The 2024-11-05 "HTTP with SSE" transport, client side.

Layer: transports. It moves frames and reads a frame's JSON only to know which request a
failed POST leaves unanswered.

How it goes (spec 2024-11-05 basic/transports, "HTTP with SSE"):

1. `sse_client` GETs the URL and waits (up to `timeout`) for the stream's first event, which
   the server MUST send: `endpoint`, the URI to POST messages to. It is resolved against the
   stream's URL and must be on the origin of the URL we were given (scheme, host and port);
   otherwise a hostile server could have our messages, and the headers sent with them (an
   `Authorization`), delivered elsewhere. Anything else fails with `ConnectError`.
2. `send()` queues a frame; one writer task POSTs them in order (order matters: a request
   before its `notifications/cancelled`). The server answers `202`; a request whose POST
   gets anything else (or no answer) is answered with a JSON-RPC error built from the HTTP
   failure, so no caller waits for a response that cannot come.
3. Every `message` event of the stream is one frame for `receive()`.
4. The stream ending, or a POST finding nobody listening, fails the transport with
   `BrokenError` (the peer above then fails every pending request with it). `aclose()`
   closes the stream, which ends the session on the server.

The client layer falls back to it (spec 2025-03-26 basic/transports, "Backwards
Compatibility") when a URL's Streamable HTTP POSTs are refused with 400, 404 or 405
(`HttpClientTransport.refused()`).
"""

from __future__ import annotations

__all__ = ["DEFAULT_TIMEOUT", "SSEClientTransport", "sse_client"]

import contextlib
import json
import logging
import math
import urllib.parse
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Final, final

import anyio
from anyio.abc import TaskGroup, TaskStatus

from mcpkit.protocol.errors import BrokenError, ClosedError, ConnectError, TransportError
from mcpkit.transports.base import FrameSink
from mcpkit.transports.http import error_response
from mcpkit.transports.http_sse import SSEEvent, SSEParser
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
"""Seconds to connect, to wait for the `endpoint` event, and for each POST's answer."""

_INTERNAL_ERROR: Final = -32603


def _request_id(frame: bytes) -> str | int | None:
    """The id of the request a frame carries (None: a notification, a response, not JSON)."""
    try:
        message = json.loads(frame)
    except ValueError:
        return None
    if not isinstance(message, dict) or not isinstance(message.get("method"), str):
        return None
    request_id = message.get("id")
    return request_id if isinstance(request_id, str | int) else None


def _failure_frame(request_id: str | int, response: WireResponse, body: bytes, where: str) -> bytes:
    """A JSON-RPC error answering `request_id` for a POST the server refused: its own
    JSON-RPC error's code and message when the body holds one, else -32603."""
    code, detail = _INTERNAL_ERROR, ""
    with contextlib.suppress(ValueError):
        error = json.loads(body).get("error")
        if isinstance(error, dict) and isinstance(error.get("code"), int):
            code, detail = error["code"], f": {error.get('message', '')}"
    message = f"HTTP {response.status} {response.reason} from {where}{detail}"
    return error_response(request_id, code, message)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return (scheme, (parts.hostname or "").lower(), port)


@final
class SSEClientTransport:
    """The client end of the HTTP+SSE transport; made by `sse_client` (see the module
    docstring). `endpoint` is where messages are POSTed, once the server named it."""

    def __init__(
        self,
        url: str,
        wire: Wire,
        task_group: TaskGroup,
        *,
        timeout: float,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.url = url
        self.endpoint: str | None = None
        self._wire = wire
        self._tg = task_group
        self._timeout = timeout
        self._headers = dict(headers or {})
        self._inbox = Inbox(f"SSE transport ({url})")
        self._outbox_in, self._outbox = anyio.create_memory_object_stream[bytes](math.inf)
        self._closed = False
        self._scopes: list[anyio.CancelScope] = []

    def describe(self) -> str:
        return self.url

    async def connect(self) -> None:
        """Open the stream and wait for its `endpoint` event, then start POSTing.

        Raises:
            ConnectError: unreachable, not an SSE stream, no (acceptable) `endpoint` event.
        """
        try:
            with anyio.fail_after(self._timeout):
                self.endpoint = await self._tg.start(self._read_stream)
        except TimeoutError:
            why = f"no `endpoint` event within {self._timeout:g}s"
            raise ConnectError(f"{self.url}: {why}") from None
        self._tg.start_soon(self._write)

    async def send(self, frame: bytes) -> None:
        """Queue one frame for POSTing and return; answers arrive through `receive()`."""
        if self._closed:
            raise ClosedError(f"SSE transport ({self.url}) is closed")
        if self._inbox.failure is not None:
            raise self._inbox.failure
        self._outbox_in.send_nowait(frame)
        await anyio.lowlevel.checkpoint()

    async def receive(self) -> bytes:
        """The next message from the server, in arrival order.

        Raises:
            BrokenError: the stream ended or broke, or the server could not be reached.
            ClosedError: after `aclose()`.
        """
        return await self._inbox.get()

    def push_to(self, sink: FrameSink) -> bool:
        """Hand each message to `sink` as it is read (`PushTransport`)."""
        return self._inbox.push_to(sink)

    def resume_push(self) -> None:
        """Nothing to resume: every answer is read whole by its own exchange."""

    async def aclose(self) -> None:
        """Close the stream (ending the session), drop unsent frames, stop `receive()`.
        Idempotent."""
        if self._closed:
            return
        self._closed = True
        for scope in self._scopes:
            scope.cancel()
        self._outbox_in.close()
        self._outbox.close()
        self._inbox.close()
        await anyio.lowlevel.checkpoint()

    # ---- the stream (a background task) ------------------------------------------------

    async def _read_stream(self, *, task_status: TaskStatus[str]) -> None:
        """Read the stream: its `endpoint` event starts the transport (`task_status`), its
        `message` events are queued. Raises only before the start (that is `connect()`'s)."""
        scope = anyio.CancelScope()
        self._scopes.append(scope)
        headers = {**self._headers, "Accept": "text/event-stream", "Cache-Control": "no-cache"}
        started = False
        with scope:
            try:
                response = await self._wire.open("GET", self.url, headers)
                try:
                    self._check_stream(response)
                    parser = SSEParser()
                    async for chunk in response.chunks():
                        for event in parser.feed(chunk):
                            started = self._take(event, response, started, task_status)
                finally:
                    await response.aclose()
                why = "the server ended the SSE stream"
            except WireError as exc:
                if not started:
                    raise ConnectError(f"cannot reach {self.url}: {exc!r}") from exc
                why = f"the SSE stream broke: {exc!r}"
            except Exception as exc:  # a bug must not take the caller's task group down
                if not started:
                    raise
                logger.exception("reading the SSE stream of %s failed", self.url)
                why = f"reading the SSE stream failed: {exc!r}"
            if not started:
                raise ConnectError(f"{self.url}: the SSE stream ended before its endpoint event")
            self._fail(BrokenError(f"{self.url}: {why}"))

    def _check_stream(self, response: WireResponse) -> None:
        if response.status != 200:
            status = f"HTTP {response.status} {response.reason}"
            raise ConnectError(f"{self.url}: {status}, not an HTTP+SSE endpoint")
        kind = content_type(response)
        if kind != "text/event-stream":
            raise ConnectError(f"{self.url}: answered {kind or 'no content type'}, not SSE")

    def _take(
        self, event: SSEEvent, response: WireResponse, started: bool, status: TaskStatus[str]
    ) -> bool:
        """Handle one event; returns whether the transport has started."""
        if not started:
            status.started(self._endpoint_from(event, response))
            return True
        if event.event == "message" and event.data.strip():
            self._inbox.put(event.data.encode())
        elif event.event != "message":
            logger.debug("ignored a %r event from %s", event.event, self.url)
        return True

    def _endpoint_from(self, event: SSEEvent, response: WireResponse) -> str:
        """The message endpoint the first event names, if it may be used (same origin)."""
        if event.event != "endpoint":
            why = f"the first SSE event is {event.event!r}, not 'endpoint'"
            raise ConnectError(f"{self.url}: {why} (not an HTTP+SSE server?)")
        endpoint = urllib.parse.urljoin(response.url, event.data.strip())
        if _origin(endpoint) != _origin(self.url):
            raise ConnectError(
                f"{self.url}: refused the server's message endpoint {endpoint!r}: it is "
                "not on the origin of the SSE URL, and messages must not be sent elsewhere"
            )
        return endpoint

    # ---- the POSTs (a background task) -------------------------------------------------

    async def _write(self) -> None:
        scope = anyio.CancelScope()
        self._scopes.append(scope)
        with scope, contextlib.suppress(anyio.ClosedResourceError):  # closed: nothing to send
            async for frame in self._outbox:
                await self._post(frame)

    async def _post(self, frame: bytes) -> None:
        """POST one frame; if it fails, answer its request (or, unreachable, fail all)."""
        assert self.endpoint is not None
        endpoint = self.endpoint
        headers = {**self._headers, "Content-Type": "application/json"}
        request_id = _request_id(frame)
        try:
            with anyio.fail_after(self._timeout):
                # the endpoint was checked; a redirect is not
                response = await self._wire.open(
                    "POST", endpoint, headers, frame, follow_redirects=False
                )
                try:
                    body = await response.read()
                finally:
                    await response.aclose()
        except WireConnectError as exc:
            self._fail(BrokenError(f"cannot reach {endpoint}: {exc}"))
            return
        except Exception as exc:  # the wire's, a timeout or a bug's: answered either way
            if not isinstance(exc, WireError | TimeoutError):
                logger.exception("POST to %s failed", endpoint)
            why = f"POST to {endpoint} failed: {exc!r}"
            self._answer(request_id, lambda rid: error_response(rid, _INTERNAL_ERROR, why), why)
            return
        if not 200 <= response.status < 300:
            why = f"HTTP {response.status} from {endpoint}"
            self._answer(request_id, lambda rid: _failure_frame(rid, response, body, endpoint), why)

    def _answer(
        self, request_id: str | int | None, frame: Callable[[str | int], bytes], why: str
    ) -> None:
        """Queue `frame(request_id)` as the request's answer; only log for anything else."""
        if request_id is None:
            logger.warning("%s (for a notification or response: nobody to tell)", why)
            return
        self._inbox.put(frame(request_id))

    def _fail(self, error: TransportError) -> None:
        self._inbox.fail(error)  # raised after what was queued before it


@contextlib.asynccontextmanager
async def sse_client(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    httpx_client: httpx.AsyncClient | None = None,
) -> AsyncIterator[SSEClientTransport]:
    """Talk the 2024-11-05 HTTP+SSE transport to the server whose SSE endpoint is `url`.

    Args:
        headers: sent with the GET and every POST (e.g. `Authorization`).
        timeout: seconds to connect, to wait for the `endpoint` event, and per POST.
        httpx_client: make the requests with this client and leave it open; by default
            `http_wire.open_wire` picks the wire.

    Raises:
        ConnectError: on entry, when the stream cannot be opened or names no acceptable
            message endpoint. Exceptions from the block propagate as they are, never
            wrapped in an ExceptionGroup.
    """
    async with contextlib.AsyncExitStack() as stack:
        wire = open_wire(url, timeout, httpx_client)
        stack.push_async_callback(wire.aclose)
        failure: BaseException | None = None
        async with anyio.create_task_group() as tg:
            transport = SSEClientTransport(url, wire, tg, timeout=timeout, headers=headers)
            try:
                await transport.connect()
                yield transport
            except BaseException as exc:  # re-raised below, outside the task group
                failure = exc
            finally:
                await transport.aclose()
                tg.cancel_scope.cancel()
    if failure is not None:
        raise failure
