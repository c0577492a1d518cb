"""An incremental parser for Server-Sent Events (`text/event-stream`).

Layer: transports (pure: bytes in, events out; no I/O). The HTTP client transport feeds it
the body of an SSE response chunk by chunk as the network delivers it; it returns every event
completed so far. Chunk boundaries never matter: any split of the same bytes gives the same
events (a property test checks it).

How this works (WHATWG HTML, "Server-sent events", §9.2.6 "Interpreting an event stream"):
a line ends at CRLF, LF or CR; a CR at the end of a chunk may be the first half of a CRLF,
so it is remembered and a following LF is skipped. A blank line dispatches the event being
built, unless it has no data (then only its type is reset). `data` lines are joined with
"\n"; `event` sets the type (default "message"); `id` sets the last event id (ignored if it
holds a NUL); `retry` sets the reconnection delay when it is all ASCII digits; lines starting
with ":" are comments; unknown fields are ignored; one space after the colon is dropped. A
leading byte-order mark is skipped. At the end of the stream an unfinished event is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import final

__all__ = ["SSEEvent", "SSEParser"]

_BOM = "\ufeff"


@final
@dataclass(frozen=True)
class SSEEvent:
    """One dispatched event: its type, data, the last event id then in force, and the
    `retry` (milliseconds) it carried, if any."""

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


@final
class SSEParser:
    """Feed it bytes with `feed()`; it returns the events each chunk completed.

    `last_event_id` and `retry` keep the stream's latest values (a client resuming a stream
    sends the former as `Last-Event-ID` and waits the latter before reconnecting).
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._skip_lf = False  # the previous chunk ended in CR: a leading LF belongs to it
        self._started = False
        self._data: list[str] = []
        self._event = ""
        self._retry: int | None = None
        self.last_event_id: str | None = None
        self.retry: int | None = None

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Take the next bytes of the stream; return the events they completed."""
        if not chunk:
            return []
        if self._skip_lf and chunk[:1] == b"\n":
            chunk = chunk[1:]
        self._skip_lf = False
        data = self._buffer + chunk
        events: list[SSEEvent] = []
        start = 0
        while True:
            end = _line_end(data, start)
            if end is None:
                break
            self._line(data[start:end].decode("utf-8", errors="replace"), events)
            if data[end : end + 1] == b"\r":
                if end + 1 == len(data):
                    self._skip_lf = True
                elif data[end + 1 : end + 2] == b"\n":
                    end += 1
            start = end + 1
        self._buffer = data[start:]
        return events

    def _line(self, line: str, events: list[SSEEvent]) -> None:
        if not self._started:
            self._started = True
            line = line.removeprefix(_BOM)
        if not line:
            self._dispatch(events)
            return
        if line.startswith(":"):
            return
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        self._field(name, value)

    def _field(self, name: str, value: str) -> None:
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self.last_event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = self.retry = int(value)

    def _dispatch(self, events: list[SSEEvent]) -> None:
        if self._data:
            events.append(
                SSEEvent(
                    data="\n".join(self._data),
                    event=self._event or "message",
                    id=self.last_event_id,
                    retry=self._retry,
                )
            )
        self._data = []
        self._event = ""
        self._retry = None


def _line_end(data: bytes, start: int) -> int | None:
    """The index of the first CR or LF at or after `start`, or None."""
    lf = data.find(b"\n", start)
    cr = data.find(b"\r", start)
    if cr == -1:
        return None if lf == -1 else lf
    return cr if lf == -1 else min(cr, lf)
