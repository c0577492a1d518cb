"""Request bookkeeping: ids, requests in flight both ways, progress and cancellation.

Layer: protocol (sans-I/O). Pure.

Invariant this module keeps: every request we send ends exactly once — by a response, an
error, our cancellation, or the connection closing — because each of those paths goes
through `finish_outgoing`, which removes the entry; a second ending finds nothing.
"""

from __future__ import annotations

import itertools
from collections import deque

import msgspec

from mcpkit.protocol.context import RequestContext
from mcpkit.protocol.errors import INVALID_REQUEST, RemoteProtocolError
from mcpkit.protocol.methods import MethodSpec
from mcpkit.protocol.versions import Era

__all__ = ["Incoming", "Outgoing", "RequestTracker"]

RequestId = int | str
_RECENTLY_ENDED = 256


class Outgoing(msgspec.Struct):
    """A request we sent and still wait for."""

    id: RequestId
    method: str
    spec: MethodSpec | None
    era: Era
    progress_token: str | int | None = None
    last_progress: float | None = None


class Incoming(msgspec.Struct):
    """A request we received and have not answered yet."""

    id: RequestId
    method: str
    era: Era
    version: str
    context: RequestContext | None = None
    progress_token: str | int | None = None
    last_progress: float | None = None
    cancelled: bool = False
    batch: int | None = None


class RequestTracker:
    """Both directions' requests in flight for one connection."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.outgoing: dict[RequestId, Outgoing] = {}
        self.incoming: dict[RequestId, Incoming] = {}
        self._progress: dict[str | int, RequestId] = {}
        # The request sent last, while it waits: its answer is most likely the next frame.
        self.latest: Outgoing | None = None
        # Ids we cancelled or timed out: a late answer to them is expected, not a violation.
        # (made on first use: a deque's first block is most of an idle connection's memory)
        self._ended: deque[RequestId] | None = None

    def add_outgoing(
        self,
        method: str,
        spec: MethodSpec | None,
        era: Era,
        progress_token: str | int | None = None,
    ) -> int:
        """Record a request we are about to send; returns its fresh id (never reused on
        this connection)."""
        rid = next(self._ids)
        self.outgoing[rid] = self.latest = Outgoing(rid, method, spec, era, progress_token)
        if progress_token is not None:
            self._progress[progress_token] = rid
        return rid

    def finish_outgoing(self, request_id: RequestId, *, abandoned: bool = False) -> Outgoing | None:
        """End a request we sent; None if it already ended (the exactly-once guard)."""
        entry = self.outgoing.pop(request_id, None)
        if entry is not None:
            if entry is self.latest:
                self.latest = None
            if entry.progress_token is not None:
                self._progress.pop(entry.progress_token, None)
            if abandoned:
                if self._ended is None:
                    self._ended = deque(maxlen=_RECENTLY_ENDED)
                self._ended.append(request_id)
        return entry

    def was_abandoned(self, request_id: RequestId) -> bool:
        """Whether we gave up on this id ourselves (so a late answer is harmless)."""
        return self._ended is not None and request_id in self._ended

    def outgoing_for_progress(self, token: str | int) -> Outgoing | None:
        rid = self._progress.get(token)
        return None if rid is None else self.outgoing.get(rid)

    def add_incoming(self, entry: Incoming) -> None:
        """Record a request we must answer.

        Raises:
            RemoteProtocolError: the peer reused an id still in flight (-32600).
        """
        if entry.id in self.incoming:
            raise RemoteProtocolError(
                f"request id {entry.id!r} is already in use by a request in flight",
                code=INVALID_REQUEST,
                request_id=entry.id,
            )
        self.incoming[entry.id] = entry

    def finish_incoming(self, request_id: RequestId) -> Incoming | None:
        return self.incoming.pop(request_id, None)
