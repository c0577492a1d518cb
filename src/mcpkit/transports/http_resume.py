"""Resuming a legacy Streamable HTTP SSE stream (spec 2025-11-25 basic/transports
§Resumability and Redelivery).

Layer: transports. A legacy server gives each SSE event an `id` and may send `retry:` (ms);
when a stream ends before it is done (the server closed it early to poll, or the connection
broke), the client waits `retry` milliseconds and GETs the endpoint with `Last-Event-ID`: the
server replays what came after that id and continues the stream. `StreamCursor` remembers
where a stream got to; `ResumableStream` reads one stream and runs the bounded reconnect loop.
"""

from __future__ import annotations

__all__ = ["DEFAULT_RETRY_MS", "MAX_ATTEMPTS", "ResumableStream", "StreamCursor"]

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio

from mcpkit.transports.http_sse import SSEParser
from mcpkit.transports.http_wire import Wire, WireError, WireResponse, content_type

logger = logging.getLogger(__name__)

DEFAULT_RETRY_MS = 1000
"""The reconnection delay when the server sent no `retry:` field."""

MAX_ATTEMPTS = 3
"""Reconnections in a row that bring nothing new before the stream is given up."""


@dataclass
class StreamCursor:
    """Where an SSE stream got to: the last event id seen (priming events included) and the
    server's latest `retry` in milliseconds."""

    last_id: str | None = None
    retry_ms: int = DEFAULT_RETRY_MS

    def note(self, parser: SSEParser) -> None:
        """Take the parser's latest `id` and `retry` (it keeps them across events)."""
        if parser.last_event_id:
            self.last_id = parser.last_event_id
        if parser.retry is not None:
            self.retry_ms = parser.retry


@dataclass
class ResumableStream:
    """One legacy SSE stream and its resumption: `deliver` queues a message's data, `done()`
    says the stream is no longer wanted (its response came, or the transport closed), and
    `headers()` are the session's headers for the reconnecting GET."""

    http: Wire
    url: str
    headers: Callable[[], dict[str, str]]
    deliver: Callable[[bytes], None]
    done: Callable[[], bool]
    cursor: StreamCursor = field(default_factory=StreamCursor)

    async def read(self, response: WireResponse) -> None:
        """Deliver the stream's messages (priming events carry no data), noting ids and
        `retry` in the cursor, until it ends or `done()`."""
        parser = SSEParser()
        async for chunk in response.chunks():
            for event in parser.feed(chunk):
                if event.event == "message" and event.data.strip():
                    self.deliver(event.data.encode())
            self.cursor.note(parser)
            if self.done():
                return

    async def reconnect(self, last: str | None) -> bool:
        """GET the stream (again from event `last`, if any) and read it; False if the server
        refused (`405`: it offers no GET stream).

        Raises:
            WireError: the connection failed or broke.
        """
        headers = {**self.headers(), "Accept": "text/event-stream"}
        if last is not None:
            headers["Last-Event-ID"] = last
        response = await self.http.open("GET", self.url, headers)
        try:
            if response.status != 200 or content_type(response) != "text/event-stream":
                logger.debug("%s refused the GET from %r: %s", self.url, last, response.status)
                return False
            await self.read(response)
            return True
        finally:
            await response.aclose()

    async def resume(self, *, backoff: bool = False, attempts: int = MAX_ATTEMPTS) -> bool:
        """Wait `retry` ms and reconnect from the last event id, until `done()`; True when it
        is. A reconnection that brings no new event id counts as failed; after `attempts`
        failures in a row (or with no id to resume from), False. With `backoff`, each failed
        attempt doubles the wait."""
        cursor, failures = self.cursor, 0
        while not self.done() and failures < attempts and cursor.last_id is not None:
            await anyio.sleep(cursor.retry_ms * (2**failures if backoff else 1) / 1000)
            before = cursor.last_id
            try:
                accepted = await self.reconnect(before)
            except WireError as exc:
                logger.debug("resuming the SSE stream of %s failed: %r", self.url, exc)
                accepted = False
            failures = 0 if accepted and cursor.last_id != before else failures + 1
        return self.done()
