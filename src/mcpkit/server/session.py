"""Per-connection state of a server, and the in-process change bus.

Layer: server. A `Session` is one connection (one stdio pipe, one in-memory pair). Legacy
state lives here (log level, resource subscriptions); modern requests carry theirs in
`_meta`, so for them the session is only the pipe back to the client.

Change events (spec: list_changed, resources/updated) are published on the `ChangeBus`;
every session hears them and forwards what its client asked for — legacy sessions as plain
notifications (respecting subscriptions), modern `subscriptions/listen` streams by filter.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio

from mcpkit.peer import Peer
from mcpkit.protocol.errors import TransportError
from mcpkit.protocol.lifecycle import State

__all__ = ["Change", "ChangeBus", "Session"]


@dataclass(frozen=True, slots=True)
class Change:
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
    """One client connection to the server: the pipe back, and legacy session state."""

    def __init__(self, peer: Peer, *, forwarding: bool = True) -> None:
        """`forwarding=False`: a single stateless exchange, which hears no changes (modern
        clients ask for them with `subscriptions/listen`), so it gets no change queue."""
        self.peer = peer
        self.log_level: str | None = "info"  # legacy default until logging/setLevel
        self.subscriptions: set[str] = set()
        self._forwarding = forwarding
        if forwarding:
            send, self._receive = anyio.create_memory_object_stream[Change](256)
            self._send = send

    async def ping(self, *, timeout: float | None = None) -> None:
        """Ping the client (legacy sessions only: modern servers never send requests)."""
        await self.peer.request("ping", timeout=timeout)

    async def notify(self, method: str, params: Any = None) -> None:
        await self.peer.notify(method, params)

    def hear(self, change: Change) -> None:
        """Called by the bus: queue the change for this session's forwarder (never blocks)."""
        if not self._forwarding:
            return
        closed = (anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError)
        with contextlib.suppress(*closed):  # a client that cannot keep up loses change events
            self._send.send_nowait(change)

    async def forward_changes(self) -> None:
        """Send legacy clients the changes they should hear, until the connection ends."""
        async with self._receive:
            async for change in self._receive:
                if not self._wants(change):
                    continue
                try:
                    await self.peer.notify(change.method, change.params)
                except TransportError:
                    return

    def _wants(self, change: Change) -> bool:
        if self.peer.connection.lifecycle.state is not State.OPERATING:
            return False
        if change.kind == "resource":
            return change.uri in self.subscriptions
        return True

    def close(self) -> None:
        if self._forwarding:
            self._send.close()
