"""Resumable SSE streams of a legacy session, backed by an `EventStore`.

Layer: server (the HTTP binding of the server). Spec 2025-11-25 basic/transports,
"Resumability and Redelivery" and SSE polling (SEP-1699).

An `EventLog` is one logical stream: the SSE stream of one POSTed request (it lasts until
that request's response is stored, whether or not an HTTP response is still attached) or the
session's standalone GET stream (it lasts as long as the session). What the session routes to
a log is stored first and only then written, by `follow`, to whichever HTTP response is
attached: the POST itself, or a `GET` with `Last-Event-ID` after the POST stream broke or
the server closed it. So a broken stream loses nothing the store still keeps.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import anyio

from mcpkit.server.http_responses import Receive, Send, sse_event, sse_ping, until_disconnect
from mcpkit.stores.events import EventStore

__all__ = ["EventLog", "follow", "new_stream_id"]


def new_stream_id() -> str:
    """A fresh, unguessable stream id (event ids are built on it, so they never collide)."""
    return secrets.token_urlsafe(12)


class EventLog:
    """One resumable stream: its id, the newest stored event id and whether it has ended.

    Its id and its `changed` event are made when first asked for: every POST gets a log, but
    a JSON POST never uses it, and these are on the path of every request."""

    __slots__ = ("_changed", "_stream_id", "done", "last_id")

    def __init__(self) -> None:
        self._stream_id: str | None = None
        self.last_id: str | None = None
        self.done = False
        self._changed: anyio.Event | None = None

    @property
    def stream_id(self) -> str:
        if self._stream_id is None:
            self._stream_id = new_stream_id()
        return self._stream_id

    @property
    def changed(self) -> anyio.Event:
        """Set at the next append or finish (a fresh event after each)."""
        if self._changed is None:
            self._changed = anyio.Event()
        return self._changed

    async def append(self, store: EventStore, frame: bytes) -> str:
        """Store `frame` (empty: a priming event) as this stream's next event; wake readers."""
        self.last_id = await store.store(self.stream_id, frame)
        self.notify()
        return self.last_id

    def finish(self) -> None:
        self.done = True
        self.notify()

    def notify(self) -> None:
        changed, self._changed = self._changed, None
        if changed is not None:
            changed.set()


async def follow(
    store: EventStore,
    log: EventLog,
    cursor: str,
    send: Send,
    *,
    keepalive: float,
    delivered: Callable[[str], None] | None = None,
) -> None:
    """Write `log`'s events after `cursor` to `send`, live, until the log is done; a
    `: ping` comment goes out after `keepalive` idle seconds. `delivered` hears each id."""
    while True:
        done, changed = log.done, log.changed  # read before replaying: nothing is missed
        replay = await store.replay_after(cursor)
        for event_id, frame in replay.events if replay is not None else []:
            if frame:
                await send(sse_event(frame, event_id))
            cursor = event_id
            if delivered is not None:
                delivered(event_id)
        if done or replay is None:
            return
        with anyio.move_on_after(keepalive) as idle:
            await changed.wait()
        if idle.cancelled_caught:
            await send(sse_ping())


async def follow_until_disconnect(
    store: EventStore,
    log: EventLog,
    cursor: str,
    receive: Receive,
    send: Send,
    *,
    keepalive: float,
    delivered: Callable[[str], None] | None = None,
) -> None:
    """`follow`, stopping early when the client goes away (the log lives on)."""

    async def work() -> None:
        await follow(store, log, cursor, send, keepalive=keepalive, delivered=delivered)

    await until_disconnect(receive, work)
