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

import asyncio
import secrets
from collections.abc import Callable

from mcpkit.server.http_responses import (
    Receive,
    Send,
    finish_unless_disconnected,
    sse_event,
    sse_ping,
)
from mcpkit.stores.events import EventStore

__all__ = ["EventLog", "changed_within", "follow", "new_stream_id"]


def new_stream_id() -> str:
    """A fresh, unguessable stream id (event ids are built on it, so they never collide)."""
    return secrets.token_urlsafe(12)


class EventLog:
    """One resumable stream: its id, the newest stored event id and whether it has ended.

    Its id and its `changed` future are made when first asked for: every POST gets a log,
    but a JSON POST never uses it, and these are on the path of every request. Plain
    asyncio (a future and a loop timer, see `follow`): an anyio event and cancel scope per
    wait cost an SSE POST more than its handler did."""

    __slots__ = ("_changed", "_stream_id", "done", "last_id")

    def __init__(self) -> None:
        self._stream_id: str | None = None
        self.last_id: str | None = None
        self.done = False
        self._changed: asyncio.Future[None] | None = None

    @property
    def stream_id(self) -> str:
        if self._stream_id is None:
            self._stream_id = new_stream_id()
        return self._stream_id

    @property
    def changed(self) -> asyncio.Future[None]:
        """Done at the next append or finish (a fresh future after each). Never await it
        directly: a cancelled waiter would cancel it for every other reader (`changed_within`)."""
        if self._changed is None:
            self._changed = asyncio.get_running_loop().create_future()
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
        _settle(changed)


def _settle(future: asyncio.Future[None] | None) -> None:
    if future is not None and not future.done():
        future.set_result(None)


async def changed_within(changed: asyncio.Future[None], timeout: float) -> bool:
    """Wait until `changed` is done (True) or `timeout` seconds pass (False), through a
    waiter of this caller's own: cancelling the caller leaves `changed` alone."""
    if changed.done():
        return True
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[None] = loop.create_future()

    def wake(_: object) -> None:
        _settle(waiter)

    changed.add_done_callback(wake)
    timer = loop.call_later(timeout, _settle, waiter)
    try:
        await waiter
    finally:
        timer.cancel()
        changed.remove_done_callback(wake)
    return changed.done()


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
        if not await changed_within(changed, keepalive):
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
    work = follow(store, log, cursor, send, keepalive=keepalive, delivered=delivered)
    await finish_unless_disconnected(receive, work)
