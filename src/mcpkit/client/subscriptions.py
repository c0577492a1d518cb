"""`Client.listen()`: server change events as an async iterator, in both eras.

Layer: client. Modern (spec: basic/patterns/subscriptions): one long-lived
`subscriptions/listen` request; its notifications carry the subscription id (= the request
id), by which they are routed here; leaving the block cancels the request, which ends the
subscription. Legacy: `resources/subscribe` for the URIs, and the session's list_changed /
resources/updated notifications filtered the same way; leaving unsubscribes.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import msgspec
from anyio.streams.memory import MemoryObjectSendStream

from mcpkit.protocol.context import SUBSCRIPTION_ID
from mcpkit.protocol.versions import Era

if TYPE_CHECKING:
    from mcpkit.client.client import Client

__all__ = ["ChangeEvent", "Filter", "Subscription", "listen"]


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One change the server reported: a list changed (`kind` tools|prompts|resources) or a
    resource was updated (`kind` "resource", `uri` set)."""

    kind: str
    uri: str | None = None


@dataclass(frozen=True, slots=True)
class Filter:
    tools: bool = False
    prompts: bool = False
    resources: bool = False
    uris: tuple[str, ...] = ()

    def wire(self) -> dict[str, Any]:
        wanted: dict[str, Any] = {}
        for kind in ("tools", "prompts", "resources"):
            if getattr(self, kind):
                wanted[f"{kind}ListChanged"] = True
        if self.uris:
            wanted["resourceSubscriptions"] = list(self.uris)
        return wanted

    def wants(self, event: ChangeEvent) -> bool:
        if event.kind == "resource":
            return event.uri in self.uris
        return bool(getattr(self, event.kind, False))


def event_of(method: str, params: Any) -> ChangeEvent | None:
    """The change a notification reports, if it is one."""
    if method == "notifications/resources/updated":
        return ChangeEvent("resource", getattr(params, "uri", None))
    parts = method.split("/")
    if len(parts) == 3 and parts[2] == "list_changed" and parts[1] != "roots":
        return ChangeEvent(parts[1])
    return None


class Subscription:
    """An open subscription: iterate it for `ChangeEvent`s. `honoured` says what the server
    agreed to send (modern: from its acknowledgement)."""

    def __init__(
        self, wanted: Filter, send: MemoryObjectSendStream[ChangeEvent], receive: Any
    ) -> None:
        self.wanted = wanted
        self.honoured: dict[str, Any] = wanted.wire()
        self.id: int | None = None
        self.acknowledged = anyio.Event()
        self._send = send
        self._receive = receive

    def deliver(self, event: ChangeEvent) -> None:
        if self.wanted.wants(event):
            with contextlib.suppress(anyio.WouldBlock, anyio.ClosedResourceError):
                self._send.send_nowait(event)

    def __aiter__(self) -> AsyncIterator[ChangeEvent]:
        return self._receive.__aiter__()  # type: ignore[no-any-return]

    def on_ack(self, params: Any) -> None:
        self.honoured = msgspec.to_builtins(getattr(params, "notifications", {}))
        self.acknowledged.set()


@contextlib.asynccontextmanager
async def listen(client: Client, wanted: Filter) -> AsyncIterator[Subscription]:
    """Open a subscription for the duration of the block (see the module docstring)."""
    send, receive = anyio.create_memory_object_stream[ChangeEvent](256)
    subscription = Subscription(wanted, send, receive)
    client._subscriptions.append(subscription)
    try:
        if client.era is Era.MODERN:
            async with anyio.create_task_group() as tg:
                tg.start_soon(_hold_modern, client, subscription)
                with anyio.fail_after(client.timeout):
                    await subscription.acknowledged.wait()
                yield subscription
                tg.cancel_scope.cancel()
        else:
            for uri in wanted.uris:
                await client.subscribe_resource(uri)
            subscription.acknowledged.set()
            yield subscription
            for uri in wanted.uris:
                await client.unsubscribe_resource(uri)
    finally:
        client._subscriptions.remove(subscription)
        send.close()
        receive.close()


async def _hold_modern(client: Client, subscription: Subscription) -> None:
    def note(rid: int) -> None:
        subscription.id = rid

    await client.peer.request(
        "subscriptions/listen",
        {"notifications": subscription.wanted.wire()},
        meta=client.modern_meta(),
        timeout=math.inf,
        max_timeout=math.inf,
        on_sent=note,
    )


def route(client: Client, method: str, params: Any) -> None:
    """Hand a notification to the subscriptions it belongs to."""
    meta = getattr(params, "meta", None)
    sub_id = meta.get(SUBSCRIPTION_ID) if isinstance(meta, dict) else None
    targets = [s for s in client._subscriptions if sub_id is None or s.id == sub_id]
    if method == "notifications/subscriptions/acknowledged":
        for subscription in targets:
            if subscription.id == sub_id:
                subscription.on_ack(params)
        return
    event = event_of(method, params)
    if event is None:
        return
    for subscription in targets:
        if sub_id is not None or client.era is Era.LEGACY:
            subscription.deliver(event)
