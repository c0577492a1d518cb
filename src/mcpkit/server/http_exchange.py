"""Modern Streamable HTTP: one POST, one request, one fresh connection to the `Server`.

Layer: server (the HTTP binding of the server). Serves exactly one request with
`Server.serve_one` and hands back what the server said: the notifications it sent first
(progress, log messages) through `emit`, then the response.

Why a fresh connection per request: 2026-07-28 is stateless (spec basic/index,
"Statelessness"): nothing may carry over from one request to the next, so nothing is shared.
Cancelling the caller cancels the handler (the spec: closing the response stream cancels).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from mcpkit.server.server import Server

__all__ = ["Emit", "exchange", "is_response_to"]

Emit = Callable[[bytes], Awaitable[None]]


def _parse(frame: bytes) -> dict[str, Any]:
    try:
        message = msgspec.json.decode(frame)
    except msgspec.DecodeError:
        return {}
    return message if isinstance(message, dict) else {}


def _answers(message: dict[str, Any], request_id: Any) -> bool:
    rid = message.get("id")
    return "method" not in message and rid == request_id and type(rid) is type(request_id)


def is_response_to(frame: bytes, request_id: Any) -> bool:
    """Whether `frame` is the response (result or error) to the request `request_id`."""
    return _answers(_parse(frame), request_id)


async def exchange(server: Server, frame: bytes, request_id: Any, emit: Emit) -> bytes | None:
    """Serve one request frame; return its response frame (None if there was none).

    Frames the server sends before the response go to `emit`; a JSON-RPC request from the
    server (never sent in the modern era) is dropped, as it could not be answered.
    """
    response: list[bytes] = []

    async def send(out: bytes) -> None:
        message = _parse(out)
        if _answers(message, request_id):
            response.append(out)
        elif "method" in message and "id" not in message:
            await emit(out)

    await server.serve_one(frame, send)
    return response[0] if response else None
