"""The queue between a transport's background readers and its `receive()`.

Layer: transports. The HTTP client transports read answers in background tasks (one per
POST, one per SSE stream) and hand them to whoever calls `receive()`. This is that hand-off:
unbounded (the server only sends what our requests asked for, and a slow reader must not
stall the HTTP connections), in arrival order, and ending in the transport's failure, if
any, after every frame that came before it. A deque and one future: an anyio memory stream
costs several times more per frame here, and this is on the path of every answer.

Pushed (`push_to`, the transports' `PushTransport` side), nothing waits here: each frame
goes to the sink as it is put, and the failure or close to its `failed`.
"""

from __future__ import annotations

__all__ = ["Inbox"]

import asyncio
from collections import deque
from typing import final

from mcpkit.protocol.errors import ClosedError, TransportError
from mcpkit.transports.base import FrameSink


@final
class Inbox:
    """Frames for `receive()`; `name` says whose, in `ClosedError` messages. One reader at
    a time (the peer's read loop), as `Transport.receive` is used."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._frames: deque[bytes] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self.failure: TransportError | None = None
        self.closed = False
        self._sink: FrameSink | None = None

    def push_to(self, sink: FrameSink) -> bool:
        """Hand frames to `sink` as they are put, from now on; False while a `get()` waits."""
        if self._waiter is not None:
            return False
        self._sink = sink
        while self._frames and not self.closed:
            sink.deliver(self._frames.popleft())  # (answers already read: no pausing them)
        if self.closed:
            sink.failed(ClosedError(f"{self._name} is closed"))
        elif self.failure is not None:
            sink.failed(self.failure)
        return True

    def put(self, frame: bytes) -> None:
        """Queue one frame (dropped after `close()` or `fail()`: nobody will read it)."""
        if not self.closed and self.failure is None:
            if self._sink is not None:
                self._sink.deliver(frame)
                return
            self._frames.append(frame)
            self._wake()

    def fail(self, error: TransportError) -> None:
        """End the queue with `error`, raised once the frames before it are taken. The
        first failure is the one that counts."""
        if self.failure is None and not self.closed:
            self.failure = error
            if self._sink is not None:
                self._sink.failed(error)
            self._wake()

    def close(self) -> None:
        """Stop: `get()` raises `ClosedError` from now on, waiting callers included."""
        if self._sink is not None and not self.closed and self.failure is None:
            self._sink.failed(ClosedError(f"{self._name} is closed"))
        self.closed = True
        self._frames.clear()
        self._wake()

    async def get(self) -> bytes:
        """The next frame.

        Raises:
            TransportError: the failure, once every frame queued before it is taken.
            ClosedError: after `close()`.
        """
        while True:
            if self.closed:
                raise ClosedError(f"{self._name} is closed")
            if self._frames:
                return self._frames.popleft()
            if self.failure is not None:
                raise self.failure
            if self._waiter is not None:
                raise RuntimeError(f"{self._name}: another task is already receiving")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
