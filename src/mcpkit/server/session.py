"""Per-connection state of a server, and the in-process change bus.

Layer: server. A `Session` is one connection (one stdio pipe, one in-memory pair). Legacy
state lives here (log level, resource subscriptions); modern requests carry theirs in
`_meta`, so for them the session is only the pipe back to the client.

Change events (spec: list_changed, resources/updated) are published on the `ChangeBus`;
every session hears them and forwards what its client asked for — legacy sessions as plain
notifications (respecting subscriptions), modern `subscriptions/listen` streams by filter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import msgspec

from mcpkit.peer import Peer
from mcpkit.protocol.errors import TransportError
from mcpkit.protocol.lifecycle import State

__all__ = ["Change", "ChangeBus", "Session"]


class Change(msgspec.Struct, frozen=True):
    """One change event: a list changed (`kind` = tools|prompts|resources) or a resource
    was updated (`kind` = "resource", `uri` set)."""

    kind: str
    uri: str | None = None

    @property
    def method(self) -> str:
        if self.kind == "resource":
            return "notifications/resources/updated"
        return f"notifications/{self.kind}/list_changed"

    @property
    def params(self) -> dict[str, Any] | None:
        return {"uri": self.uri} if self.uri is not None else None


Listener = Callable[[Change], None]


class ChangeBus:
    """In-process publish/subscribe of `Change`s. Listeners must not block."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add a listener; returns the function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def publish(self, change: Change) -> None:
        for listener in list(self._listeners):
            listener(change)


class Session:
    """One client connection to the server: the pipe back, and legacy session state.

    Changes heard from the bus are queued and sent by a task that exists only while there
    is something to send: an idle session holds no task and no stream of its own (an HTTP
    server may hold thousands of them).
    """

    _MAX_QUEUED = 256  # a client that cannot keep up loses change events beyond this

    def __init__(self, peer: Peer, *, forwarding: bool = True) -> None:
        """`forwarding=False`: a single stateless exchange, which hears no changes (modern
        clients ask for them with `subscriptions/listen`)."""
        self.peer = peer
        self.log_level: str | None = "info"  # legacy default until logging/setLevel
        self.subscriptions: set[str] = set()
        self._forwarding = forwarding
        self._queued: list[Change] = []
        self._flusher: asyncio.Task[None] | None = None

    async def ping(self, *, timeout: float | None = None) -> None:
        """Ping the client (legacy sessions only: modern servers never send requests)."""
        await self.peer.request("ping", timeout=timeout)

    async def notify(self, method: str, params: Any = None) -> None:
        await self.peer.notify(method, params)

    def hear(self, change: Change) -> None:
        """Called by the bus: queue the change and make sure it will be sent (never blocks)."""
        if not self._forwarding or len(self._queued) >= self._MAX_QUEUED:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # published outside the loop: no connection is being served
            return
        self._queued.append(change)
        if self._flusher is None:
            self._flusher = loop.create_task(self._flush())

    async def _flush(self) -> None:
        """Send what was queued, in order, then end (`hear` starts another when needed)."""
        try:
            while self._queued:
                change = self._queued.pop(0)
                if not self._wants(change):
                    continue
                try:
                    await self.peer.notify(change.method, change.params)
                except TransportError:
                    self._queued.clear()
                    return
        finally:
            self._flusher = None

    def _wants(self, change: Change) -> bool:
        if self.peer.connection.lifecycle.state is not State.OPERATING:
            return False
        if change.kind == "resource":
            return change.uri in self.subscriptions
        return True

    def close(self) -> None:
        """Stop forwarding: what is still queued is dropped."""
        self._forwarding = False
        self._queued.clear()
        if self._flusher is not None:
            self._flusher.cancel()
