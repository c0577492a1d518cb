"""Raw ASGI plumbing for the MCP endpoint: reading bodies, writing JSON, empty and SSE replies.

Layer: server (the HTTP binding of the server). Only the ASGI message dicts; no starlette, no
JSON-RPC routing (that is `http.py`, `http_sessions.py`, `http_exchange.py`).

Why raw ASGI: the endpoint streams SSE while it watches for the client going away (a modern
disconnect cancels the handler), which is simplest with the bare `receive`/`send` pair, and it
keeps `mcpkit.server.http` working mounted anywhere an ASGI app can be.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Coroutine, MutableMapping
from typing import Any, Final, TypeAlias, TypeVar

__all__ = [
    "SSE_HEADERS",
    "WATCH_AFTER",
    "Receive",
    "Scope",
    "Send",
    "error_body",
    "finish_unless_disconnected",
    "header_map",
    "send_empty",
    "send_json",
    "sse_event",
    "sse_ping",
    "sse_priming",
    "start_sse",
    "wait_disconnect",
]

Scope: TypeAlias = MutableMapping[str, Any]
Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]

SSE_HEADERS: Final = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache, no-transform"),
    (b"x-accel-buffering", b"no"),  # spec: SHOULD, so proxies do not hold events back
]


_NAMES: dict[bytes, str] = {}
_NAMES_KEPT = 256  # a client inventing header names cannot grow this


def header_map(scope: Scope) -> dict[str, str]:
    """The request headers, names lower-cased (repeated headers joined with ', ').

    Names are decoded once and remembered (every request carries the same few); this runs
    for every request."""
    found: dict[str, str] = {}
    names = _NAMES
    for raw_name, raw_value in scope.get("headers", ()):
        name = names.get(raw_name)
        if name is None:
            name = raw_name.decode("latin-1").lower()
            if len(names) < _NAMES_KEPT:
                names[bytes(raw_name)] = name
        value = raw_value.decode("latin-1")
        found[name] = f"{found[name]}, {value}" if name in found else value
    return found


async def wait_disconnect(receive: Receive) -> None:
    """Return once the client has gone away (call only after the body was read)."""
    while (await receive())["type"] != "http.disconnect":
        pass


T = TypeVar("T")


WATCH_AFTER = 0.02
"""Seconds a single request's work runs before its disconnect watcher starts (see
`finish_unless_disconnected`)."""


async def finish_unless_disconnected(
    receive: Receive, work: Coroutine[Any, Any, T], *, watch_after: float = 0.0
) -> tuple[bool, T | None]:
    """Run `work` in this task, cancelling it if the client disconnects first: `(True,
    result)`, or `(False, None)` when the client left (spec: closing the stream cancels
    the request; a stream nobody reads must not keep its handler alive).

    The work runs inline and the watcher is a plain asyncio task (an anyio task group
    with a second task costs more than a small handler does), started after `watch_after`
    seconds: a single request (a modern POST) passes `WATCH_AFTER`, as most end well within
    it and a watcher started, stepped and cancelled for each cost more than the handler (a
    client that leaves is noticed that much later); a GET stream starts it at once, so that
    a client reconnecting right after leaving finds the stream released."""
    main = asyncio.current_task()
    assert main is not None
    loop = asyncio.get_running_loop()
    left = False
    watcher: asyncio.Task[None] | None = None

    async def watch() -> None:
        nonlocal left
        await wait_disconnect(receive)
        left = True
        main.cancel()

    def start_watching() -> None:
        nonlocal watcher
        watcher = loop.create_task(watch())

    timer = loop.call_later(watch_after, start_watching) if watch_after else None
    if timer is None:
        start_watching()
    try:
        result = await work
    except asyncio.CancelledError:
        if not left:
            raise
        main.uncancel()
        return False, None
    finally:
        if timer is not None:
            timer.cancel()
        if watcher is not None:
            watcher.cancel()
    if left:  # it finished just as the client left: the cancellation is still pending
        main.uncancel()
        return False, None
    return True, result


def error_body(code: int, message: str, request_id: Any = None, data: Any = None) -> bytes:
    """A JSON-RPC error response; without an id when the request's could not be read."""
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    body: dict[str, Any] = {"jsonrpc": "2.0", "error": error}
    if request_id is not None:
        body["id"] = request_id
    return json.dumps(body).encode()


async def send_json(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """A complete `application/json` response."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def send_empty(
    send: Send, status: int, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """A response without a body (202 Accepted, 405, ...)."""
    all_headers = [(b"content-length", b"0"), *(headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": b""})


async def start_sse(send: Send, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Begin a `text/event-stream` response (200); events follow with `sse_event`."""
    all_headers = [*SSE_HEADERS, *(headers or [])]
    await send({"type": "http.response.start", "status": 200, "headers": all_headers})


def sse_event(frame: bytes, event_id: str | None = None, event: str = "message") -> Message:
    """One SSE event (a `message` unless `event` says otherwise) carrying one JSON-RPC frame
    (frames never contain newlines once re-encoded compactly, but a multi-line frame is split
    into `data:` lines anyway), with its `id:` when the stream is resumable."""
    lines = b"".join(b"data: " + line + b"\n" for line in frame.splitlines() or [b""])
    head = b"" if event_id is None else b"id: " + event_id.encode() + b"\n"
    return {
        "type": "http.response.body",
        "body": head + b"event: " + event.encode() + b"\n" + lines + b"\n",
        "more_body": True,
    }


def sse_priming(event_id: str, retry_ms: int) -> Message:
    """The priming event (spec 2025-11-25, SSE polling): an id and empty data, so the client
    can resume from the start, plus `retry:` telling it how long to wait before it does."""
    body = f"id: {event_id}\nretry: {retry_ms}\ndata: \n\n".encode()
    return {"type": "http.response.body", "body": body, "more_body": True}


def sse_ping() -> Message:
    """A keep-alive comment for an idle stream (ignored by SSE parsers)."""
    return {"type": "http.response.body", "body": b": ping\n\n", "more_body": True}
