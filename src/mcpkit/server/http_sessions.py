"""Legacy Streamable HTTP sessions (2025-03-26 .. 2025-11-25): `Mcp-Session-Id` and routing.

Layer: server (the HTTP binding of the server). A session is one long-lived `memory_pair`
connection to `Server.serve`, started by a POST of `initialize`; every later POST feeds it
a frame, and what the server sends back is routed to an HTTP stream.

How outbound frames are routed (each goes on exactly one stream; spec 2025-11-25
basic/transports, "MUST NOT broadcast"):

1. A response goes to the POST that is waiting for that request id (dropped if it left).
2. `notifications/progress` goes to the open SSE POST whose request carried that
   `progressToken`.
3. List-changed and `resources/updated` notifications are never about one request: they
   go to the GET stream.
4. Anything else (log messages, server→client requests such as `elicitation/create`,
   pings) goes to the most recently opened SSE POST still waiting for its response.
5. Whatever rules 2-4 could not place goes to the GET stream.

Every stream is resumable (`http_streams.py`): what goes to an SSE POST or to the GET stream
is stored in the `EventStore` with an event id first, then written to whatever HTTP response
follows that stream. An SSE POST stays a routing target until its response is stored, even
after its HTTP response broke or the server closed it (SSE polling); the client picks the
rest up with `GET` + `Last-Event-ID`. While no GET stream is open its events wait in the
store; the next GET starts after the last one delivered (the store's bounds apply).

Idle sessions (no request for `ttl` seconds and no stream open) are reclaimed by `reap`,
which closes the connection and so ends the session's server task.

`ServedSession` (the server connection and its lifetime) and `SessionManager` (ids, cap,
TTL) are shared with the 2024-11-05 HTTP+SSE transport (`http_sse_legacy.py`).
"""

from __future__ import annotations

import collections
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, TypeVar

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from mcpkit.protocol.errors import TransportError
from mcpkit.server.http_streams import EventLog
from mcpkit.stores.events import EventStore, MemoryEventStore
from mcpkit.transports.memory import memory_pair

if TYPE_CHECKING:
    from mcpkit.server.server import Server

__all__ = ["LegacySession", "PostStream", "ServedSession", "SessionManager"]

_KEEP_DONE_LOGS: Final = 256  # finished POST streams a session still lets clients resume
_STREAM_BUFFER: Final = 256
_TO_GET_STREAM: Final = frozenset(
    {
        "notifications/tools/list_changed",
        "notifications/prompts/list_changed",
        "notifications/resources/list_changed",
        "notifications/resources/updated",
        "notifications/roots/list_changed",
    }
)


@dataclass(eq=False)
class PostStream:
    """One POST waiting for its response; `sse` POSTs also take related messages, into
    their `log` (JSON POSTs get their response through `receive`)."""

    request_id: Any
    sse: bool
    progress_token: Any = None
    log: EventLog = field(default_factory=EventLog)
    send: MemoryObjectSendStream[bytes] = field(init=False)
    receive: MemoryObjectReceiveStream[bytes] = field(init=False)

    def __post_init__(self) -> None:
        self.send, self.receive = anyio.create_memory_object_stream[bytes](_STREAM_BUFFER)


def _id_key(request_id: Any) -> tuple[str, Any]:
    return (type(request_id).__name__, request_id)


class ServedSession:
    """What every HTTP session is: one `memory_pair` connection to `Server.serve`, run in
    the hub until `aclose`. `ours` is the HTTP side's end of it; `_pump` is what reads it
    (the default leaves reading to the session's owner, e.g. an SSE stream's handler)."""

    modern: ClassVar[bool] = True  # whether the connection serves the modern era too

    def __init__(self, session_id: str, clock: Callable[[], float]) -> None:
        self.id = session_id
        self._clock = clock
        self.last_active = clock()
        self.ours, self._theirs = memory_pair()
        self._scope = anyio.CancelScope()
        self.closed = anyio.Event()
        self.finished = anyio.Event()  # set once the session's server task has ended

    async def run(self, server: Server) -> None:
        """Serve until closed: the server connection plus the pump reading its output."""
        try:
            with self._scope:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(self._serve, server)
                    await self._pump()
                    tg.cancel_scope.cancel()
            await self.aclose()
        finally:
            self.finished.set()

    async def _serve(self, server: Server) -> None:
        if self.modern:
            await server.serve(self._theirs)
        else:
            await server.serve(self._theirs, modern=False)

    async def _pump(self) -> None:
        await anyio.sleep_forever()

    async def aclose(self) -> None:
        """End the session: stop its server task and end every stream it has open."""
        self._scope.cancel()
        self._end_streams()
        with anyio.CancelScope(shield=True):
            await self.ours.aclose()
            await self._theirs.aclose()
        self.closed.set()

    def _end_streams(self) -> None:
        """Wake whatever HTTP response is waiting on this session (subclasses' streams)."""

    def touch(self) -> None:
        self.last_active = self._clock()

    @property
    def busy(self) -> bool:
        """Whether an HTTP stream is open (such a session is never idle)."""
        return False


class LegacySession(ServedSession):
    """One legacy session: its server connection and the HTTP streams it talks through."""

    def __init__(
        self, session_id: str, clock: Callable[[], float], store: EventStore | None = None
    ) -> None:
        super().__init__(session_id, clock)
        self.store: EventStore = store if store is not None else MemoryEventStore()
        self.version: str | None = None
        self._posts: dict[tuple[str, Any], PostStream] = {}
        self.get_log = EventLog()
        self.get_open = False
        self._get_cursor: str | None = None  # the last GET event delivered (or primed)
        self._logs: collections.OrderedDict[str, EventLog] = collections.OrderedDict()
        self._logs[self.get_log.stream_id] = self.get_log

    def _end_streams(self) -> None:
        for post in list(self._posts.values()):
            post.send.close()
            post.receive.close()
        for log in self._logs.values():
            log.finish()

    @property
    def busy(self) -> bool:
        return bool(self._posts) or self.get_open

    # ---- streams -----------------------------------------------------------------------

    async def open_post(self, post: PostStream) -> str | None:
        """Route the POST's messages to it; an SSE POST's log gets its priming event, whose
        id is returned."""
        primed = await self._add_log(post.log) if post.sse else None
        self._posts[_id_key(post.request_id)] = post
        return primed

    def close_post(self, post: PostStream) -> None:
        self._posts.pop(_id_key(post.request_id), None)
        post.send.close()
        post.receive.close()
        post.log.finish()
        self.touch()

    async def _add_log(self, log: EventLog) -> str:
        self._logs[log.stream_id] = log
        finished = [k for k, v in self._logs.items() if v.done]
        for stream_id in finished[: max(len(finished) - _KEEP_DONE_LOGS, 0)]:
            del self._logs[stream_id]
        return await log.append(self.store, b"")

    def log_of(self, stream_id: str) -> EventLog | None:
        """This session's stream with that id (never another session's)."""
        return self._logs.get(stream_id)

    async def open_get(self) -> str | None:
        """Claim the standalone stream; the id to follow it from, None if it is taken."""
        if self.get_open:
            return None
        self.get_open = True
        if self._get_cursor is None:
            self._get_cursor = await self.get_log.append(self.store, b"")
        return self._get_cursor

    def delivered_on_get(self, event_id: str) -> None:
        self._get_cursor = event_id

    def close_get(self) -> None:
        self.get_open = False
        self.touch()

    # ---- routing -----------------------------------------------------------------------

    async def _pump(self) -> None:
        while True:
            try:
                frame = await self.ours.receive()
            except TransportError:
                return
            await self._route(frame)

    async def _route(self, frame: bytes) -> None:
        try:
            message = json.loads(frame)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        target = self._target(message)
        if target is not None and target.sse:
            await target.log.append(self.store, frame)
            if "method" not in message:
                self.close_post(target)  # its response: the stream is complete
            return
        if target is not None:
            try:
                await target.send.send(frame)
                return
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                if "method" not in message:
                    return  # a response whose POST left: nobody else may have it
        await self.get_log.append(self.store, frame)

    def _target(self, message: dict[str, Any]) -> PostStream | None:
        method = message.get("method")
        if method is None:
            self._note_version(message)
            return self._posts.get(_id_key(message.get("id")))
        if method in _TO_GET_STREAM:
            return None
        open_sse = [post for post in self._posts.values() if post.sse]
        if method == "notifications/progress":
            token = (message.get("params") or {}).get("progressToken")
            return next((p for p in open_sse if p.progress_token == token), None)
        return open_sse[-1] if open_sse else None

    def _note_version(self, message: dict[str, Any]) -> None:
        result = message.get("result")
        if self.version is None and isinstance(result, dict):
            version = result.get("protocolVersion")
            if isinstance(version, str):
                self.version = version


S = TypeVar("S", bound=ServedSession)


class SessionManager(Generic[S]):
    """All live sessions of one kind: create (up to `max_sessions`), look up, end, and
    reclaim idle ones. `make(id, clock)` builds a session; ids are `secrets` tokens."""

    def __init__(
        self,
        server: Server,
        make: Callable[[str, Callable[[], float]], S],
        *,
        ttl: float,
        max_sessions: int,
        clock: Callable[[], float] = anyio.current_time,
    ) -> None:
        self.server = server
        self._make = make
        self.ttl = ttl
        self.max_sessions = max_sessions
        self.sessions: dict[str, S] = {}
        self.clock = clock

    def __len__(self) -> int:
        return len(self.sessions)

    def get(self, session_id: str) -> S | None:
        session = self.sessions.get(session_id)
        if session is not None:
            session.touch()
        return session

    async def create(self, tg: TaskGroup) -> S | None:
        """A new session running in `tg`; None when the cap is reached even after reaping."""
        if len(self.sessions) >= self.max_sessions:
            await self.reap()
        if len(self.sessions) >= self.max_sessions:
            return None
        session = self._make(secrets.token_urlsafe(32), lambda: self.clock())
        self.sessions[session.id] = session
        tg.start_soon(self._run, session)
        return session

    async def _run(self, session: S) -> None:
        try:
            await session.run(self.server)
        finally:
            self.sessions.pop(session.id, None)

    async def end(self, session_id: str) -> bool:
        """End a session (DELETE); False if there was none."""
        session = self.sessions.pop(session_id, None)
        if session is None:
            return False
        await session.aclose()
        return True

    async def reap(self) -> int:
        """End every session idle for longer than `ttl`; returns how many."""
        deadline = self.clock() - self.ttl
        idle = [s for s in self.sessions.values() if not s.busy and s.last_active < deadline]
        for session in idle:
            await self.end(session.id)
        return len(idle)

    async def reap_forever(self) -> None:
        """Reap on a period of half the TTL (capped at a minute) until cancelled."""
        period = min(max(self.ttl / 2, 0.01), 60.0)
        while True:
            await anyio.sleep(period)
            await self.reap()

    async def end_all(self) -> None:
        for session_id in list(self.sessions):
            await self.end(session_id)
