"""Legacy Streamable HTTP sessions (2025-03-26 .. 2025-11-25): `Mcp-Session-Id` and routing.

Layer: server (the HTTP binding of the server). A session is one `Server.attach` connection,
started by a POST of `initialize`; every later POST feeds it a frame (a request is served
in the POST's own task), and what the server sends back is routed to an HTTP stream by the
task that sends it. A session holds no task of its own.

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
follows that stream (an SSE POST's own response is written to directly, by `emit`, in store
order). An SSE POST stays a routing target until its response is stored, even after its
HTTP response broke or the server closed it (SSE polling); the client picks the rest up
with `GET` + `Last-Event-ID`. While no GET stream is open its events wait in the
store; the next GET starts after the last one delivered (the store's bounds apply).

Idle sessions (no request for `ttl` seconds and no stream open) are reclaimed by `reap`,
which closes the connection and so ends the session's server task.

`ServedSession` (the server connection and its lifetime) and `SessionManager` (ids, cap,
TTL) are shared with the 2024-11-05 HTTP+SSE transport (`http_sse_legacy.py`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, TypeVar

import anyio
import msgspec

from mcpkit.protocol.errors import ClosedError
from mcpkit.server.http_exchange import Envelope, envelope
from mcpkit.server.http_responses import Message, Send, sse_event
from mcpkit.server.http_streams import EventLog
from mcpkit.stores.events import EventStore, MemoryEventStore

if TYPE_CHECKING:
    from mcpkit.server.server import Attachment, Server

__all__ = ["LegacySession", "PostStream", "ServedSession", "SessionManager"]

_log = logging.getLogger("mcpkit.server")

_KEEP_DONE_LOGS: Final = 256  # finished POST streams a session still lets clients resume
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
    their `log`, and while `writer` is set (the POST's own SSE response) onto it too. A JSON
    POST only ever gets its response: `response` (None if the session ended first)."""

    request_id: Any
    sse: bool
    progress_token: Any = None
    log: EventLog = field(default_factory=EventLog)
    response: asyncio.Future[bytes | None] = field(init=False)
    writer: Send | None = None
    # one event stored and written at a time, so the response carries them in id order
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.response = asyncio.get_running_loop().create_future()

    def answer(self, frame: bytes | None) -> bool:
        """Hand over the response (None: there is none); False if the POST already left."""
        if self.response.done():
            return False
        self.response.set_result(frame)
        return True


class _Token(msgspec.Struct):
    progressToken: Any = None


class _Version(msgspec.Struct):
    protocolVersion: Any = None


def _id_key(request_id: Any) -> tuple[str, Any]:
    return (type(request_id).__name__, request_id)


class ServedSession:
    """What every HTTP session is: an `Attachment` to the server, fed by the requests that
    carry the client's frames (`feed`), with what the server sends going to `_deliver`
    (subclasses route it). It owns no task: an idle session is a few objects."""

    modern: ClassVar[bool] = True  # whether the connection serves the modern era too

    def __init__(self, session_id: str, clock: Callable[[], float]) -> None:
        self.id = session_id
        self.principal: str | None = None  # who opened it (a protected app): only they may use it
        self._clock = clock
        self.last_active = clock()
        self.ended = False
        self._attached: Attachment | None = None
        self._answering = 0  # requests in `answer` (they keep the session busy)
        self._feeds: set[asyncio.Task[None]] = set()  # `spawn_feed`'s, until done
        self._finished: anyio.Event | None = None

    def start(self, server: Server) -> None:
        """Attach to the server."""
        self._attached = server.attach(self._deliver, modern=self.modern)

    async def feed(self, frame: bytes) -> None:
        """Hand the server one frame from the client; a request is served right here.

        Raises:
            ClosedError: the session has ended (also when it ends while serving this).
        """
        try:
            await self._attached_or_fail().feed(frame)
        except asyncio.CancelledError:
            self._cancelled()
            raise

    async def answer(self, frame: bytes) -> bytes | None:
        """`feed`, returning the reply to a request instead of routing it (None: none is
        due): for a POST whose response carries the reply, with no stream to route to.

        Raises:
            ClosedError: the session has ended (also when it ends while serving this).
        """
        attached = self._attached_or_fail()
        self._answering += 1
        try:
            return await attached.answer(frame)
        except asyncio.CancelledError:
            self._cancelled()
            raise
        finally:
            self._answering -= 1
            self.touch()

    def _attached_or_fail(self) -> Attachment:
        if self.ended or self._attached is None:
            raise ClosedError("the HTTP session has ended")
        return self._attached

    def _cancelled(self) -> None:
        """Serving a frame was cancelled: if by the session's end, not the request's, that
        is a `ClosedError` (raised from here); else the cancellation goes on (the caller
        re-raises it)."""
        task = asyncio.current_task()
        if self.ended and task is not None:
            task.uncancel()
            raise ClosedError("the HTTP session has ended") from None

    def spawn_feed(self, frame: bytes) -> None:
        """`feed` in the background: for a request whose answer outlives its HTTP request
        (the 2024-11-05 transport's POST, answered 202: the answer goes on its GET stream)."""
        self._attached_or_fail()
        # A plain asyncio task, kept until done: an anyio task-group spawn cost more than
        # the whole request. It ends with the session: a request being served is one of
        # its connection's handlers (cancelled by `aclose`), one not yet begun finds the
        # session ended.
        task = asyncio.get_running_loop().create_task(self._feed_quietly(frame))
        self._feeds.add(task)
        task.add_done_callback(self._feeds.discard)

    async def _feed_quietly(self, frame: bytes) -> None:
        with contextlib.suppress(ClosedError):
            await self.feed(frame)

    async def _deliver(self, frame: bytes) -> None:
        """Take one frame the server sent (in the sending task)."""
        raise NotImplementedError

    @property
    def finished(self) -> anyio.Event:
        """Set once the session has ended and its handlers have stopped."""
        if self._finished is None:
            self._finished = anyio.Event()
            if self.ended and self._attached is None:
                self._finished.set()
        return self._finished

    async def aclose(self) -> None:
        """End the session: stop its handlers and end every stream it has open."""
        if self.ended:
            return
        self.ended = True
        self._end_streams()
        attached, self._attached = self._attached, None
        if attached is not None:
            with anyio.CancelScope(shield=True):
                await attached.aclose()
        if self._finished is not None:
            self._finished.set()

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
        self._done_logs: list[str] = []  # finished, oldest first (a list: no deque block)
        self._logs[self.get_log.stream_id] = self.get_log

    def _end_streams(self) -> None:
        for post in list(self._posts.values()):
            post.answer(None)
        for log in self._logs.values():
            log.finish()

    @property
    def busy(self) -> bool:
        return bool(self._posts) or self.get_open or self._answering > 0

    # ---- streams -----------------------------------------------------------------------

    async def open_post(self, post: PostStream) -> str | None:
        """Route the POST's messages to it; an SSE POST's log gets its priming event, whose
        id is returned."""
        primed = await self._add_log(post.log) if post.sse else None
        self._posts[_id_key(post.request_id)] = post
        return primed

    async def emit(self, post: PostStream, frame: bytes) -> None:
        """Store `frame` as the next event of an SSE POST's stream, and write it to the
        POST's response while one is attached."""
        async with post.lock:
            event_id = await post.log.append(self.store, frame)
            await _write(post, sse_event(frame, event_id))

    async def write(self, post: PostStream, message: Message, *, last: bool = False) -> None:
        """Write an ASGI message that is no event (a ping, the end) to the POST's response,
        if one is attached; `last` detaches it after: later events only go to the store."""
        async with post.lock:
            await _write(post, message)
            if last:
                post.writer = None

    def close_post(self, post: PostStream) -> None:
        if self._posts.pop(_id_key(post.request_id), None) is not None and post.sse:
            self._done_logs.append(post.log.stream_id)  # still resumable, for a while
        post.answer(None)
        post.log.finish()
        self.touch()

    async def _add_log(self, log: EventLog) -> str:
        self._logs[log.stream_id] = log
        while len(self._done_logs) > _KEEP_DONE_LOGS:  # the oldest finished ones go
            self._logs.pop(self._done_logs.pop(0), None)
        return await log.append(self.store, b"")

    def log_of(self, stream_id: str) -> EventLog | None:
        """This session's stream with that id (never another session's)."""
        return self._logs.get(stream_id)

    async def open_get(self) -> str | None:
        """Claim the standalone stream; the id to follow it from, None if it is taken."""
        if self.get_open:
            return None
        self.get_open = True
        return await self._get_start()

    async def _get_start(self) -> str:
        """Where the GET stream starts: a priming event made before the stream's first
        message or first GET, whichever comes first — so what the server sent before the
        client opened its GET stream is replayed to it, not skipped."""
        if self._get_cursor is None:
            self._get_cursor = await self.get_log.append(self.store, b"")
        return self._get_cursor

    def delivered_on_get(self, event_id: str) -> None:
        self._get_cursor = event_id

    def close_get(self) -> None:
        self.get_open = False
        self.touch()

    # ---- routing -----------------------------------------------------------------------

    async def _deliver(self, frame: bytes) -> None:
        """Route one frame the server sent (the rules in the module docstring)."""
        message = envelope(frame)
        if message is None:
            return
        target = self._target(message)
        if target is not None and target.sse:
            await self.emit(target, frame)
            if message.method is None:
                self.close_post(target)  # its response: the stream is complete
            return
        if target is not None and (target.answer(frame) or message.method is None):
            return  # (a response whose POST left: nobody else may have it)
        await self._get_start()
        await self.get_log.append(self.store, frame)

    def _target(self, message: Envelope) -> PostStream | None:
        method = message.method
        if method is None:
            if self.version is None:
                self._note_version(message.result)
            return self._posts.get(_id_key(message.id))
        if method in _TO_GET_STREAM:
            return None
        open_sse = [post for post in self._posts.values() if post.sse]
        if method == "notifications/progress":
            token = _decode_or(message.params, _Token).progressToken
            return next((p for p in open_sse if p.progress_token == token), None)
        return open_sse[-1] if open_sse else None

    def _note_version(self, result: msgspec.Raw) -> None:
        version = _decode_or(result, _Version).protocolVersion
        if isinstance(version, str):
            self.version = version


async def _write(post: PostStream, message: Message) -> None:
    """(Holding `post.lock`.) A response that cannot be written to any more is let go:
    its client resumes from the store."""
    if post.writer is not None:
        try:
            await post.writer(message)
        except Exception as exc:  # (the ASGI server's own error for a response gone)
            _log.debug("an SSE POST response was let go: %r", exc)
            post.writer = None


T = TypeVar("T", bound=msgspec.Struct)


def _decode_or(raw: msgspec.Raw, type_: type[T]) -> T:
    """`raw` as `type_`, or an empty `type_` if it is absent or not that shape."""
    try:
        return msgspec.json.decode(raw, type=type_) if raw else type_()
    except (msgspec.DecodeError, msgspec.ValidationError):
        return type_()


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
        clock: Callable[[], float] = time.monotonic,  # (the asyncio loop's clock too)
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

    async def create(self) -> S | None:
        """A new session; None when the cap is reached even after reaping."""
        if len(self.sessions) >= self.max_sessions:
            await self.reap()
        if len(self.sessions) >= self.max_sessions:
            return None
        session = self._make(secrets.token_urlsafe(32), lambda: self.clock())
        self.sessions[session.id] = session
        session.start(self.server)
        return session

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
