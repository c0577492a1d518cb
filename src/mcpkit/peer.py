"""`Peer`: runs a sans-I/O `Connection` over a `Transport`; the engine under Server and Client.

Layer: between transports and server/client. It owns the tasks: one reader, one task per
request received (so cancellation can stop exactly that handler), and waiters for the
requests we sent. A transport that can push (`PushTransport`) needs no reader: its I/O
callback hands each frame to `deliver`, which settles answers and starts requests right
there, and one task runs the async handlers (notifications, progress) in order.
Handler tasks are plain asyncio tasks (a task-group spawn costs several times more, and a
small request's whole budget is tens of microseconds); `run()` and `aclose()` cancel and
await them, so none outlives the peer. Protocol rules stay in `Connection`; this module
only moves bytes and wakes tasks.

No `ExceptionGroup` leaves this module: handler failures become error responses, transport
failures end the run and fail every waiting request with one clear error.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

import anyio
import msgspec
from anyio.abc import TaskGroup

from mcpkit.protocol.connection import Connection
from mcpkit.protocol.errors import (
    ClosedError,
    MCPKitError,
    RemoteProtocolError,
    RequestTimeout,
    TransportError,
)
from mcpkit.protocol.events import (
    CancelReceived,
    ErrorReceived,
    Event,
    NotificationReceived,
    ProgressReceived,
    ProtocolViolation,
    RequestReceived,
    ResponseReceived,
)
from mcpkit.transports.base import Transport, pushing

__all__ = ["DEFAULT_MAX_TIMEOUT", "DEFAULT_TIMEOUT", "Peer", "ProgressHandler", "RequestHandler"]

_log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0  # idle: no answer and no progress for this long
DEFAULT_MAX_TIMEOUT = 600.0  # absolute cap, progress or not
_BACKLOG_HIGH = 256  # pushed events waiting for an async handler: stop the transport here
_BACKLOG_LOW = 64  # ... and let it go on below this

RequestHandler = Callable[[RequestReceived], Awaitable[Any]]
NotificationHandler = Callable[[NotificationReceived], Awaitable[None]]
ProgressHandler = Callable[[ProgressReceived], Awaitable[None] | None]
ViolationHandler = Callable[[ProtocolViolation], None]


class _Waiter(msgspec.Struct):
    """One request we sent, waiting for its answer: a future settled by the answer, the
    connection's end, or the peer's deadline sweep. Plain asyncio (no cancel scope, no
    Event): this is on the path of every request a client makes."""

    done: asyncio.Future[None]
    on_progress: ProgressHandler | None = None
    outcome: ResponseReceived | ErrorReceived | None = None
    # Progress pushes the idle deadline back (never past the absolute cap).
    idle: float = math.inf
    cap_deadline: float = math.inf
    deadline: float = math.inf
    timed_out: bool = False

    def settle(self) -> None:
        if not self.done.done():
            self.done.set_result(None)


class _Deadlines:
    """One timer for all the requests a peer waits on, instead of one each.

    Arming and cancelling a loop timer per request cost more than a tenth of a small
    request's client-side budget. Here a request only records its deadline; the single
    timer is moved earlier when a new deadline comes before it, and when it fires it
    expires what is due and re-arms for the earliest deadline left. Answers never touch it.
    """

    # Loop timers may fire this much early (uvloop's have millisecond resolution).
    _SLACK = 0.002

    def __init__(self, waiters: dict[int | str, _Waiter]) -> None:
        self._waiters = waiters
        self._timer: asyncio.TimerHandle | None = None
        self._at = math.inf

    def start(self, waiter: _Waiter, loop: asyncio.AbstractEventLoop, cap: float) -> None:
        """Start `waiter`'s deadlines: `idle` from now, and the absolute `cap`."""
        now = loop.time()
        waiter.cap_deadline = now + cap
        deadline = waiter.deadline = now + waiter.idle if waiter.idle < cap else now + cap
        if deadline < self._at:
            self._arm(loop, deadline)

    def extend(self, waiter: _Waiter, loop: asyncio.AbstractEventLoop) -> None:
        """Restart `waiter`'s idle deadline: `idle` from now, never past its cap."""
        waiter.deadline = min(loop.time() + waiter.idle, waiter.cap_deadline)
        if waiter.deadline < self._at:
            self._arm(loop, waiter.deadline)

    def _arm(self, loop: asyncio.AbstractEventLoop, at: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._at = at
        self._timer = None if at == math.inf else loop.call_at(at, self._sweep)

    def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        due, earliest = loop.time() + self._SLACK, math.inf
        for waiter in self._waiters.values():
            if waiter.done.done():
                continue
            if waiter.deadline <= due:
                waiter.timed_out = True
                waiter.settle()
            elif waiter.deadline < earliest:
                earliest = waiter.deadline
        self._timer = None
        self._arm(loop, earliest)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer, self._at = None, math.inf


async def _ignore_notification(_: NotificationReceived) -> None:
    return None


async def _refuse(_: RequestReceived) -> Any:
    raise ClosedError("this connection no longer serves requests")


class Peer:
    """One live connection: send requests and await answers; serve the peer's requests.

    Args:
        connection: the protocol state machine (client or server side).
        transport: where frames go.
        on_request: answers a request (returns the result; raises to answer an error).
        on_notification: called for every notification that is not protocol bookkeeping.
        on_violation: told about bad input from the peer (after the error reply was sent).
        timeout: default seconds to wait for an answer (restarted by progress).
        max_timeout: default absolute cap on any wait.
    """

    def __init__(
        self,
        connection: Connection,
        transport: Transport,
        *,
        on_request: RequestHandler,
        on_notification: NotificationHandler = _ignore_notification,
        on_violation: ViolationHandler | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_timeout: float = DEFAULT_MAX_TIMEOUT,
    ) -> None:
        self.connection = connection
        self.transport = transport
        self.timeout = timeout
        self.max_timeout = max_timeout
        self._on_request = on_request
        self._on_notification = on_notification
        self._on_violation = on_violation
        self._waiters: dict[int | str, _Waiter] = {}
        self._deadlines = _Deadlines(self._waiters)
        self._handlers: dict[int | str, asyncio.Task[None]] = {}
        self._cancelled: set[int | str] = set()  # handlers the peer cancelled
        self._progress_tokens = itertools.count(1)
        self._tg: TaskGroup | None = None
        self.closed: MCPKitError | None = None
        # Push mode (see `deliver`): events an async handler must see, in arrival order.
        self._backlog: deque[Event | TransportError] = deque()
        self._backlog_busy = False  # the drain task is in a handler right now
        self._backlog_waiter: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # see `_running_loop`
        self._pushing_paused = False

    async def run(self) -> None:
        """Read and dispatch until the peer hangs up or `aclose()` is called.

        Returns normally when the connection ends; the reason is in `self.closed`.
        """
        async with anyio.create_task_group() as tg:
            self._tg = tg
            try:
                push = pushing(self.transport)
                if push is not None and push.push_to(self):
                    await self._drain_backlog()
                else:
                    await self._read_loop()
            finally:
                tg.cancel_scope.cancel()
                with anyio.CancelScope(shield=True):
                    await self._stop_handlers()
        self._tg = None

    async def serve_frame(self, frame: bytes) -> None:
        """Take one incoming frame without a read loop, serving a request in the calling
        task: what a stateless exchange needs (modern HTTP: one POST, one request, no
        connection before or after). Cancelling the caller cancels the handler."""
        for event in self.connection.receive(frame):
            if isinstance(event, RequestReceived):
                task = asyncio.current_task()
                assert task is not None
                self._handlers[event.id] = task
                await self._serve(event)
            else:
                await self._dispatch([event])

    async def _stop_handlers(self) -> None:
        """Cancel the request handlers still running and wait until they have ended."""
        running = list(self._handlers.values())
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running)

    async def _read_loop(self) -> None:
        while True:
            try:
                frame = await self.transport.receive()
            except RemoteProtocolError as exc:  # e.g. an oversized frame; keep going
                await self._dispatch(self.connection.receive_error(exc))
                continue
            except TransportError as exc:
                self._shutdown(exc)
                return
            await self._dispatch(self.connection.receive(frame))

    # ---- push mode: a `PushTransport` calls these from its I/O callbacks ----------------

    def deliver(self, frame: bytes) -> bool:
        """Take one frame now (`FrameSink`): answers settle their waiters and requests get
        their tasks here, in the transport's callback; what needs an async handler
        (notifications, progress, violations) waits in the backlog for `_drain_backlog`,
        and so does everything after it, so that order is kept. False: stop reading."""
        events = self.connection.receive(frame)
        if self._backlog or self._backlog_busy:
            self._queue(events)
        else:
            for index, event in enumerate(events):
                if not self._dispatch_now(event):
                    self._queue(events[index:])
                    break
        if len(self._backlog) < _BACKLOG_HIGH:
            return True
        self._pushing_paused = True
        return False

    def failed(self, error: MCPKitError) -> None:
        """A frame the transport rejected (go on), or the transport's end (`FrameSink`)."""
        if isinstance(error, RemoteProtocolError):  # (a violation: always an async handler's)
            self._queue(self.connection.receive_error(error))
        elif isinstance(error, TransportError):
            self._queue([error])
        else:  # pragma: no cover - the FrameSink contract names only these two
            self._queue([TransportError(str(error))])

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        """The loop this peer runs on, asked once: on Python 3.11 every
        `asyncio.get_running_loop()` (and `current_task()`) is a getpid() syscall, and each
        request asked it once or twice."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    def _queue(self, items: list[Event] | list[TransportError]) -> None:
        self._backlog.extend(items)
        waiter = self._backlog_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _drain_backlog(self) -> None:
        """Push mode's task: run the async handlers in order; return at the transport's end."""
        loop = asyncio.get_running_loop()
        backlog = self._backlog
        while True:
            while not backlog:
                self._backlog_waiter = loop.create_future()
                try:
                    await self._backlog_waiter
                finally:
                    self._backlog_waiter = None
            item = backlog.popleft()
            if isinstance(item, TransportError):
                self._shutdown(item)
                return
            self._backlog_busy = True
            try:
                await self._dispatch([item])
            finally:
                self._backlog_busy = False
            if self._pushing_paused and len(backlog) < _BACKLOG_LOW:
                self._pushing_paused = False
                push = pushing(self.transport)
                assert push is not None
                push.resume_push()

    def _shutdown(self, exc: MCPKitError) -> None:
        if self.closed is None:
            self.closed = exc
        self._deadlines.stop()
        for event in self.connection.close(self.closed):
            self._dispatch_now(event)
        for waiter in self._waiters.values():  # requests not yet registered with the connection
            if waiter.outcome is None:
                waiter.settle()

    async def _dispatch(self, events: list[Event]) -> None:
        for event in events:
            if self._dispatch_now(event):
                continue
            match event:
                case NotificationReceived():
                    await self._on_notification(event)
                case ProgressReceived():
                    await self._progress(event)
                case ProtocolViolation():
                    await self._violation(event)

    def _dispatch_now(self, event: Event) -> bool:
        """Act on what needs no waiting (answers, requests, cancellations); False for the
        rest, which needs an async handler."""
        # (`type() is`, not `match`: a class pattern that misses costs ~100 ns, see `events`)
        if type(event) is ResponseReceived or type(event) is ErrorReceived:
            waiter = self._waiters.get(event.id)
            if waiter is not None and not waiter.done.done():  # (not timed out, not closed)
                waiter.outcome = event
                waiter.done.set_result(None)
        elif type(event) is RequestReceived:
            # a plain asyncio task, not a task-group child: spawning one is a
            # fraction of the cost, and `_stop_handlers` keeps the structure
            task = self._running_loop().create_task(self._serve_in_task(event))
            self._handlers[event.id] = task
        elif type(event) is CancelReceived:
            handler = self._handlers.get(event.request_id)
            if handler is not None and event.request_id not in self._cancelled:
                self._cancelled.add(event.request_id)
                handler.cancel()
        else:
            return False
        return True

    async def _progress(self, event: ProgressReceived) -> None:
        waiter = self._waiters.get(event.request_id)
        if waiter is None:
            return
        self._deadlines.extend(waiter, self._running_loop())
        if waiter.on_progress is not None:
            maybe = waiter.on_progress(event)
            if maybe is not None:
                await maybe

    async def _violation(self, event: ProtocolViolation) -> None:
        if event.reply is not None:
            await self.send(event.reply)
        if self._on_violation is not None:
            self._on_violation(event)

    def stop_serving(self) -> None:
        """Refuse requests from now on (answering -32603), dropping the handler, which
        may refer back to whoever owns this peer: see `Attachment.detach`."""
        self._on_request = _refuse

    def answer_frame(self, frame: bytes) -> Awaitable[bytes | None]:
        """`serve_frame` for a caller that carries the reply itself (a legacy JSON POST,
        whose HTTP response is the reply): the reply to the request, or the error reply to
        a bad frame, is returned instead of sent; None when none is due (a notification,
        a cancelled request). What the handler sends meanwhile goes out as usual.

        Await what this returns at once, in the task that called it: the request is that
        task's to serve from the call on (a lone request, the usual frame, is served by
        `_answer` itself, with no coroutine frame of this method's around it)."""
        events = self.connection.receive(frame)
        if len(events) == 1 and type(events[0]) is RequestReceived:
            return self._answer(self._served_here(events[0]))
        return self._answer_events(events)

    def _served_here(self, event: RequestReceived) -> RequestReceived:
        """Make the current task the handler of `event` (so a cancellation reaches it)."""
        task = asyncio.current_task(self._running_loop())
        assert task is not None
        self._handlers[event.id] = task
        return event

    async def _answer_events(self, events: list[Event]) -> bytes | None:
        reply = None
        for event in events:
            if isinstance(event, RequestReceived):
                reply = await self._answer(self._served_here(event))
            elif isinstance(event, ProtocolViolation) and event.reply is not None:
                reply = event.reply
                if self._on_violation is not None:
                    self._on_violation(event)
            else:
                await self._dispatch([event])
        return reply

    async def _serve(self, event: RequestReceived) -> None:
        reply = await self._answer(event)
        if reply is not None:
            await self.send(reply)

    async def _serve_in_task(self, event: RequestReceived) -> None:
        """`_serve` as a task of its own. Nothing but cancellation escapes it: a task's
        exception would only be reported when the task is collected, and a done callback
        to report it costs every request a pass of the loop."""
        try:
            reply = await self._answer(event)  # `_serve`, inlined: a frame less per request
            if reply is not None:
                await self.transport.send(reply)
        except TransportError as exc:  # the connection's end is reported where it is read
            _log.debug("the answer to request %r was not sent: %r", event.id, exc)
        except Exception:  # a handler's own failure became an error reply: this is ours
            _log.exception("answering request %r failed", event.id)

    async def _answer(self, event: RequestReceived) -> bytes | None:
        """The reply to one request. Cancelled by the peer: no answer is due (spec:
        cancellation), even if the handler swallowed the cancellation and returned something."""
        rid = event.id
        try:
            try:
                result = await self._on_request(event)
            except asyncio.CancelledError:
                if rid not in self._cancelled:
                    raise  # shutting down
                reply = self.connection.send_cancelled(rid)
            except Exception as exc:
                _log.debug("request %r (%s) failed", rid, event.method, exc_info=True)
                reply = self.connection.send_error(rid, exc)
            else:
                if rid in self._cancelled:
                    reply = self.connection.send_cancelled(rid)
                else:
                    reply = self.connection.send_result(rid, result)
        finally:
            del self._handlers[rid]
            self._cancelled.discard(rid)
        return reply

    async def send(self, frame: bytes) -> None:
        """Send one frame (the transport keeps concurrent frames whole: see `Transport`)."""
        await self.transport.send(frame)

    async def request(
        self,
        method: str,
        params: Any = None,
        *,
        meta: dict[str, Any] | None = None,
        timeout: float | None = None,
        max_timeout: float | None = None,
        on_progress: ProgressHandler | None = None,
        on_sent: Callable[[int], None] | None = None,
    ) -> Any:
        """Send a request and wait for its typed result.

        `on_sent` is told the request's id once it is framed (a subscription's id is its
        request's id).

        `timeout` is an idle limit: with `on_progress` given, each progress notification
        restarts it; `max_timeout` caps the whole wait regardless of progress (spec:
        basic/utilities/progress — progress MAY reset the clock, a maximum SHOULD apply).
        0 or None means the peer's default; `math.inf` waits forever.

        Raises:
            RPCError: the peer answered with an error (subclass per code).
            RemoteProtocolError: the answer was not acceptable.
            RequestTimeout: no answer in time (the request is then cancelled); the message
                names which limit ran out.
            TransportError: the connection broke or was closed.
            LocalProtocolError: the request may not be sent now.
        """
        if self.closed is not None:
            raise self.closed
        token = next(self._progress_tokens) if on_progress else None
        rid, frame = self.connection.send_request(method, params, meta=meta, progress_token=token)
        loop = self._running_loop()
        waiter = _Waiter(loop.create_future(), on_progress, None, timeout or self.timeout)
        self._waiters[rid] = waiter
        if on_sent is not None:
            on_sent(rid)
        try:
            try:
                await self.transport.send(frame)
            except BaseException:
                self.connection.abandon(rid)  # it never left: it ends here
                raise
            cap = max_timeout or self.max_timeout
            self._deadlines.start(waiter, loop, cap)
            try:  # (the wait is inline: every coroutine frame is crossed again on wake-up)
                await waiter.done
            except asyncio.CancelledError:  # the caller was cancelled: tell the peer
                with anyio.CancelScope(shield=True):
                    await self._cancel(rid, "cancelled by the caller")
                raise
            outcome = waiter.outcome
            if outcome is None:  # (an answer never lands on a timed-out waiter: `_dispatch_now`)
                await self._unanswered(rid, method, waiter, cap)
            if isinstance(outcome, ResponseReceived):  # (a hit is cheap: see `events`)
                return outcome.result
            raise outcome.error
        finally:
            del self._waiters[rid]

    async def _unanswered(self, rid: int, method: str, waiter: _Waiter, cap: float) -> NoReturn:
        """Raise for a wait no answer ended: the request timed out, or the connection ended."""
        if not waiter.timed_out:
            raise self.closed or ClosedError("connection closed")
        capped = asyncio.get_running_loop().time() >= waiter.cap_deadline
        why = f"the {cap:g}s cap" if capped else f"{waiter.idle:g}s without an answer or progress"
        await self._cancel(rid, f"timed out after {why}")
        raise RequestTimeout(f"{method} timed out: {why}")

    async def _cancel(self, rid: int, reason: str) -> None:
        frame = self.connection.cancel(rid, reason)
        if frame is not None and self.closed is None:
            with contextlib.suppress(TransportError):
                await self.send(frame)

    async def notify(self, method: str, params: Any = None) -> None:
        """Send a notification."""
        if self.closed is not None:
            raise self.closed
        await self.send(self.connection.send_notification(method, params))

    async def aclose(self) -> None:
        """Stop: fail waiting requests, cancel handlers, close the transport."""
        self._shutdown(ClosedError("connection closed"))
        if self._tg is not None:
            self._tg.cancel_scope.cancel()
        with anyio.CancelScope(shield=True):
            await self._stop_handlers()
            await self.transport.aclose()
