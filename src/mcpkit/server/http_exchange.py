"""Modern Streamable HTTP: one POST, one request, one fresh connection to the `Server`.

Layer: server (the HTTP binding of the server). Serves exactly one request with
`Server.serve_one` and hands back what the server said: the notifications it sent first
(progress, log messages) through `emit`, then the response.

Why a fresh connection per request: 2026-07-28 is stateless (spec basic/index,
"Statelessness"): nothing may carry over from one request to the next, so nothing is shared.
Cancelling the caller cancels the handler (the spec: closing the response stream cancels).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from mcpkit.server.server import Server

__all__ = ["Emit", "Envelope", "envelope", "exchange"]

Emit = Callable[[bytes], Awaitable[None]]


class Envelope(msgspec.Struct):
    """What the HTTP binding needs of a frame the server sent (is it a response, to which
    id; a notification of which method), decoded without building its payload."""

    id: Any = None
    method: str | None = None
    params: msgspec.Raw = msgspec.Raw()
    result: msgspec.Raw = msgspec.Raw()


_decoder = msgspec.json.Decoder(Envelope)


def envelope(frame: bytes) -> Envelope | None:
    """The frame's envelope, or None if it is not one JSON-RPC object."""
    try:
        return _decoder.decode(frame)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def exchange(server: Server, frame: bytes, emit: Emit) -> Coroutine[Any, Any, bytes | None]:
    """Serve one request frame; its response frame (None if there was none), from the
    coroutine this returns (the server's own: no frame of this function's in between).

    Frames the server sends before the response go to `emit`; a JSON-RPC request from the
    server (never sent in the modern era) is dropped, as it could not be answered.
    """

    async def send(out: bytes) -> None:
        message = envelope(out)
        if message is not None and message.method is not None and message.id is None:
            await emit(out)

    return server.serve_one(frame, send)
