"""The queue between a transport's background readers and its `receive()`.

Layer: transports. The HTTP client transports read answers in background tasks (one per
POST, one per SSE stream) and hand them to whoever calls `receive()`. This is that hand-off:
unbounded (the server only sends what our requests asked for, and a slow reader must not
stall the HTTP connections), in arrival order, and ending in the transport's failure, if
any, after every frame that came before it. A deque and one future: an anyio memory stream
costs several times more per frame here, and this is on the path of every answer.
"""

from __future__ import annotations

__all__ = ["Inbox"]

import asyncio
from collections import deque
from typing import final

from mcpkit.protocol.errors import ClosedError, TransportError


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

    def put(self, frame: bytes) -> None:
        """Queue one frame (dropped after `close()` or `fail()`: nobody will read it)."""
        if not self.closed and self.failure is None:
            self._frames.append(frame)
            self._wake()

    def fail(self, error: TransportError) -> None:
        """End the queue with `error`, raised once the frames before it are taken. The
        first failure is the one that counts."""
        if self.failure is None and not self.closed:
            self.failure = error
            self._wake()

    def close(self) -> None:
        """Stop: `get()` raises `ClosedError` from now on, waiting callers included."""
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
