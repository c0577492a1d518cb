"""The modern (2026-07-28) side of the MCP HTTP endpoint: validate, exchange, answer.

Layer: server (the HTTP binding of the server). Called by `http.py` for a POST it has
classified as modern; runs the request through `http_exchange.exchange` and maps the outcome
to HTTP (spec 2026-07-28 basic/transports/streamable-http, "Status codes").

Responses: JSON unless the client accepts `text/event-stream` and the server sends a
notification (progress, a log message) before the response; then an SSE stream starts with
that notification and ends with the response. A client that disconnects cancels the handler
(spec: closing the stream MUST be treated as cancellation).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

from mcpkit.protocol.context import RequestContext
from mcpkit.protocol.errors import (
    HEADER_MISMATCH,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    MISSING_REQUIRED_CLIENT_CAPABILITY,
    UNSUPPORTED_PROTOCOL_VERSION,
    HeaderMismatch,
    InvalidParams,
    UnsupportedProtocolVersion,
)
from mcpkit.server.http_exchange import exchange
from mcpkit.server.http_headers import check_modern_headers
from mcpkit.server.http_responses import (
    WATCH_AFTER,
    Receive,
    Send,
    error_body,
    finish_unless_disconnected,
    send_empty,
    send_json,
    sse_event,
    start_sse,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mcpkit.server.server import Server

__all__ = ["ModernEndpoint", "status_for"]

# The spec's status map for error responses; every other outcome is 200.
_STATUS: Final = {
    METHOD_NOT_FOUND: 404,
    HEADER_MISMATCH: 400,
    MISSING_REQUIRED_CLIENT_CAPABILITY: 400,
    UNSUPPORTED_PROTOCOL_VERSION: 400,
}


def status_for(response: bytes) -> int:
    """The HTTP status of a modern JSON response (404 for -32601, 400 for -32020..-32022)."""
    if b'"error"' not in response:  # a result: no need to parse it
        return 200
    try:
        error = json.loads(response).get("error")
    except (ValueError, AttributeError):
        return 200
    code = error.get("code") if isinstance(error, dict) else None
    return _STATUS.get(code, 200) if isinstance(code, int) else 200


class ModernEndpoint:
    """Answers modern POSTs for one `Server`."""

    def __init__(self, server: Server, *, json_response: bool) -> None:
        self.server = server
        self.json_response = json_response

    def _tool_schema(self, name: str) -> Mapping[str, Any] | None:
        registered = self.server.tools.get(name)
        return None if registered is None else registered.tool.input_schema

    async def post(
        self,
        message: dict[str, Any],
        body: bytes,
        headers: dict[str, str],
        receive: Receive,
        send: Send,
    ) -> None:
        if "method" not in message:
            reason = "clients must not POST JSON-RPC responses in protocol 2026-07-28"
            await send_json(send, 400, error_body(INVALID_REQUEST, reason))
            return
        request_id = message.get("id")
        refusal = self._check(message, headers)
        if refusal is not None:
            await send_json(send, 400, refusal)
        elif "id" not in message:
            await send_empty(send, 202)  # a notification: accepted, nothing to answer
        else:
            wants_sse = "text/event-stream" in headers.get("accept", "")
            # a listen stream has no single answer to wait for: SSE even in JSON mode
            streams = message.get("method") == "subscriptions/listen"
            sse = wants_sse and (streams or not self.json_response)
            await self._answer(body, request_id, sse, receive, send)

    def _check(self, message: dict[str, Any], headers: dict[str, str]) -> bytes | None:
        """The 400 body for a request that fails the `_meta` or header checks, or None.

        Order: a missing `_meta` field (-32602), then the headers (-32020), then an
        unsupported version (-32022), so the version error names a consistent request.
        """
        request_id = message.get("id")
        params = message.get("params")
        meta = params.get("_meta") if isinstance(params, dict) else None
        unsupported: UnsupportedProtocolVersion | None = None
        if "id" in message:
            try:
                RequestContext.from_meta(meta, self.server.modern_versions)
            except InvalidParams as exc:
                return error_body(INVALID_PARAMS, exc.message, request_id)
            except UnsupportedProtocolVersion as exc:
                unsupported = exc
        try:
            check_modern_headers(headers, message, self._tool_schema)
        except HeaderMismatch as exc:
            return error_body(HEADER_MISMATCH, exc.message, request_id)
        if unsupported is not None:
            code, text, data = unsupported.code, unsupported.message, unsupported.data
            return error_body(code, text, request_id, data)
        return None

    async def _answer(
        self, body: bytes, request_id: Any, sse: bool, receive: Receive, send: Send
    ) -> None:
        streaming = False

        async def emit(frame: bytes) -> None:
            nonlocal streaming
            if not sse:
                return
            if not streaming:
                await start_sse(send)
                streaming = True
            await send(sse_event(frame))

        answered, response = await finish_unless_disconnected(
            receive, exchange(self.server, body, emit), watch_after=WATCH_AFTER
        )
        if not answered:
            return  # cancelled by a disconnect: the spec says send nothing more
        if response is None:
            gone = "the server ended the request without answering"
            response = error_body(INTERNAL_ERROR, gone, request_id)
        if streaming:
            await send(sse_event(response))
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        else:
            await send_json(send, status_for(response), response)
