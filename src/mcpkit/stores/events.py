"""`EventStore`: the SSE events of legacy Streamable HTTP streams, kept for resumption.

Layer: stores; imports nothing from mcpkit. Spec 2025-11-25 basic/transports,
"Resumability and Redelivery": every SSE event may carry an `id`; a client whose stream broke
sends `GET` with `Last-Event-ID` and the server replays *that stream's* later events. Ids
must be unique across the session's streams, so an id names its stream.

`MemoryEventStore` keeps the newest `max_events` events of each stream and the
`max_streams` most recently written streams, in this process only: a resumption that asks
after an evicted event gets what is still kept (a gap), one for a dropped stream or from
another process finds nothing (`None`). A deployment behind a load balancer needs a shared
store (Redis) implementing the protocol.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Final, Protocol, runtime_checkable

__all__ = ["EventStore", "MemoryEventStore", "Replay"]

MAX_EVENTS: Final = 1000
MAX_STREAMS: Final = 10_000


@dataclass(frozen=True, slots=True)
class Replay:
    """What `replay_after` found: the stream the id belongs to and its later events."""

    stream_id: str
    events: list[tuple[str, bytes]]


@runtime_checkable
class EventStore(Protocol):
    """Where the server keeps sent SSE events. An empty `message` is a priming event."""

    async def store(self, stream_id: str, message: bytes) -> str:
        """Keep `message` as the next event of `stream_id`; return its (new, unique) id."""
        ...

    async def replay_after(self, event_id: str) -> Replay | None:
        """The stream of `event_id` and the events kept after it, oldest first (a store that
        dropped some has a gap there); None when the id is unknown or malformed."""
        ...


@dataclass(slots=True)
class _Stream:
    first: int = 0  # the sequence number of events[0]
    events: collections.deque[bytes] = field(default_factory=collections.deque)


class MemoryEventStore:
    """An `EventStore` in this process's memory. Event ids are `<stream_id>:<seq>`.

    Bounds: `max_events` per stream (older ones are dropped) and `max_streams` streams
    (the least recently written stream is dropped whole).
    """

    def __init__(self, *, max_events: int = MAX_EVENTS, max_streams: int = MAX_STREAMS) -> None:
        if max_events < 1 or max_streams < 1:
            raise ValueError("max_events and max_streams must be at least 1")
        self.max_events = max_events
        self.max_streams = max_streams
        self._streams: collections.OrderedDict[str, _Stream] = collections.OrderedDict()

    def __len__(self) -> int:
        """How many streams are kept."""
        return len(self._streams)

    async def store(self, stream_id: str, message: bytes) -> str:
        if ":" in stream_id:
            raise ValueError("a stream id must not contain ':'")
        stream = self._streams.get(stream_id)
        if stream is None:
            stream = self._streams[stream_id] = _Stream()
            while len(self._streams) > self.max_streams:
                self._streams.popitem(last=False)
        else:
            self._streams.move_to_end(stream_id)
        stream.events.append(message)
        if len(stream.events) > self.max_events:
            stream.events.popleft()
            stream.first += 1
        return f"{stream_id}:{stream.first + len(stream.events) - 1}"

    async def replay_after(self, event_id: str) -> Replay | None:
        stream_id, _, seq_text = event_id.rpartition(":")
        stream = self._streams.get(stream_id)
        if stream is None or not seq_text.isdigit():
            return None
        seq = int(seq_text)
        if seq >= stream.first + len(stream.events):
            return None  # never issued
        start = max(seq + 1 - stream.first, 0)
        events = [
            (f"{stream_id}:{stream.first + i}", stream.events[i])
            for i in range(start, len(stream.events))
        ]
        return Replay(stream_id, events)
