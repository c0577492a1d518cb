"""Two linked in-process transports, for tests and for running a client and server in one process.

Layer: transports. Frames are handed over as `bytes` objects through anyio memory object
streams; nothing is serialised or framed. It must not parse JSON or know about JSON-RPC.

Semantics (the same as the stdio and HTTP transports, so tests written against a memory pair
exercise the real error paths):

* Each direction buffers up to `max_buffer` frames (default 1024), so one side can send a
  burst without the other receiving at that moment; beyond that `send()` waits.
* After one side's `aclose()`, the peer's `receive()` first drains the frames already sent
  and then raises `BrokenError("peer closed")`; the peer's `send()` raises `BrokenError`.
* After our own `aclose()`, our `send()`/`receive()` raise `ClosedError`, including a
  `receive()` that was already waiting. Close both ends when done: anyio warns about
  memory streams that are garbage-collected open.
"""

from __future__ import annotations

__all__ = ["DEFAULT_MEMORY_BUFFER", "MemoryTransport", "memory_pair"]

import anyio
import anyio.lowlevel
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from mcpkit.protocol.errors import BrokenError, ClosedError

DEFAULT_MEMORY_BUFFER = 1024
"""Frames each direction holds before `send()` waits for the peer to receive."""


class MemoryTransport:
    """One end of a `memory_pair`. Implements `mcpkit.transports.base.Transport`."""

    def __init__(
        self,
        send_stream: MemoryObjectSendStream[bytes],
        receive_stream: MemoryObjectReceiveStream[bytes],
    ) -> None:
        self._send_stream = send_stream
        self._receive_stream = receive_stream
        self._closed = False

    async def send(self, frame: bytes) -> None:
        """Hand `frame` to the peer; waits only when the peer's buffer is full."""
        if self._closed:
            raise ClosedError("memory transport is closed")
        try:
            await self._send_stream.send(frame)
        except anyio.BrokenResourceError:
            raise BrokenError("peer closed") from None
        except anyio.ClosedResourceError:
            raise ClosedError("memory transport is closed") from None

    async def receive(self) -> bytes:
        """The next frame from the peer; `BrokenError` once it closed and all was drained."""
        if self._closed:
            raise ClosedError("memory transport is closed")
        try:
            return await self._receive_stream.receive()
        except anyio.EndOfStream:
            raise BrokenError("peer closed") from None
        except anyio.ClosedResourceError:
            raise ClosedError("memory transport is closed") from None

    async def aclose(self) -> None:
        """Close both directions. Idempotent; wakes our own waiting `receive()`."""
        self._closed = True
        self._send_stream.close()
        self._receive_stream.close()
        await anyio.lowlevel.checkpoint()

    def describe(self) -> str:
        """Names the peer for error messages."""
        return "memory"


def memory_pair(
    max_buffer: int = DEFAULT_MEMORY_BUFFER,
) -> tuple[MemoryTransport, MemoryTransport]:
    """Two transports wired to each other: what one sends, the other receives.

    `max_buffer` frames per direction may be in flight before `send()` waits (0 makes every
    send a rendezvous with a receiving peer, which is rarely what a test wants).
    """
    if max_buffer < 0:
        raise ValueError("max_buffer must be >= 0")
    a_to_b_send, a_to_b_receive = anyio.create_memory_object_stream[bytes](max_buffer)
    b_to_a_send, b_to_a_receive = anyio.create_memory_object_stream[bytes](max_buffer)
    return (
        MemoryTransport(a_to_b_send, b_to_a_receive),
        MemoryTransport(b_to_a_send, a_to_b_receive),
    )
