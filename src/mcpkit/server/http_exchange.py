"""Modern Streamable HTTP: one POST, one request, one fresh connection to the `Server`.

Layer: server (the HTTP binding of the server). Runs `Server.serve` over a `memory_pair` for
exactly one request and hands back what the server said: the notifications it sent first
(progress, log messages) through `emit`, then the response.

Why a fresh connection per request: 2026-07-28 is stateless (spec basic/index,
"Statelessness"): nothing may carry over from one request to the next, so nothing is shared.
Cancelling the caller cancels the handler (the spec: closing the response stream cancels).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio

from mcpkit.protocol.errors import TransportError
from mcpkit.transports.memory import memory_pair

if TYPE_CHECKING:
    from mcpkit.server.server import Server

__all__ = ["Emit", "exchange", "is_response_to"]

Emit = Callable[[bytes], Awaitable[None]]


def _parse(frame: bytes) -> dict[str, Any]:
    try:
        message = json.loads(frame)
    except ValueError:
        return {}
    return message if isinstance(message, dict) else {}


def _answers(message: dict[str, Any], request_id: Any) -> bool:
    rid = message.get("id")
    return "method" not in message and rid == request_id and type(rid) is type(request_id)


def is_response_to(frame: bytes, request_id: Any) -> bool:
    """Whether `frame` is the response (result or error) to the request `request_id`."""
    return _answers(_parse(frame), request_id)


async def exchange(server: Server, frame: bytes, request_id: Any, emit: Emit) -> bytes | None:
    """Serve one request frame; return its response frame (None if the server hung up).

    Frames the server sends before the response go to `emit`; a JSON-RPC request from the
    server (never sent in the modern era) is dropped, as it could not be answered.
    """
    ours, theirs = memory_pair()
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, theirs)
        try:
            await ours.send(frame)
            while True:
                out = await ours.receive()
                message = _parse(out)
                if _answers(message, request_id):
                    return out
                if "method" in message and "id" not in message:
                    await emit(out)
        except TransportError:
            pass
        finally:
            tg.cancel_scope.cancel()
            with anyio.CancelScope(shield=True):
                await ours.aclose()
    return None
