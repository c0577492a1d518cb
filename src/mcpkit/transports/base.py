"""The one interface every transport implements.

Layer: transports. A transport moves whole frames: each frame is the UTF-8 bytes of one
JSON-RPC message (or batch), with no framing bytes (no trailing newline). It does not parse
JSON; the protocol layer does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from mcpkit.protocol.errors import MCPKitError

__all__ = ["FrameSink", "PushTransport", "Transport", "pushing"]


@runtime_checkable
class Transport(Protocol):
    """A bidirectional pipe of frames.

    `receive()` returns the next frame. When the peer hangs up it raises `BrokenError`
    (or `ClosedError` after our own `aclose()`); a frame over the size limit raises
    `FrameTooLarge` (a `RemoteProtocolError`) and the transport stays usable.
    `send()` raises `BrokenError`/`ClosedError` the same way. Several tasks may call `send()`
    at once: each frame goes out whole and frames are never interleaved (a transport whose
    write can suspend midway serializes its own sends; callers add no lock, which on the
    hot path of every message would cost more than the write). `describe()` names the peer
    for error messages (a command line, a URL, "memory").
    """

    async def send(self, frame: bytes) -> None: ...

    async def receive(self) -> bytes: ...

    async def aclose(self) -> None: ...

    def describe(self) -> str: ...


class FrameSink(Protocol):
    """Where a `PushTransport` hands what arrives, synchronously, on the loop's thread.

    `deliver(frame)` takes one whole frame and returns False when the sink is behind (the
    transport then stops reading until its `resume_push()`, if it can: a pipe can, an HTTP
    answer already read cannot). `failed(error)` reports a `RemoteProtocolError` such as
    `FrameTooLarge` (the transport goes on) or the `TransportError` that ended it (nothing
    follows; after our own `aclose()` that is a `ClosedError`).
    """

    def deliver(self, frame: bytes) -> bool: ...

    def failed(self, error: MCPKitError) -> None: ...


class PushTransport(Transport, Protocol):
    """A transport that can also hand frames over as they arrive instead of through
    `receive()`.

    Why: a small request's whole client-side budget is tens of microseconds, and a read
    loop costs a pass of the event loop per frame (the I/O callback wakes the reader task,
    which then wakes the caller). Pushed, the I/O callback itself decodes the answer and
    wakes the caller. `push_to(sink)` switches over for good and returns True, delivering
    any frames already read first; False means it cannot now (e.g. not on asyncio, or a
    `receive()` is under way) and `receive()` stays the way in.
    """

    def push_to(self, sink: FrameSink) -> bool: ...

    def resume_push(self) -> None: ...


def pushing(transport: Transport) -> PushTransport | None:
    """`transport` as a `PushTransport` if its own class has push mode, else None.

    The class is asked, not the object: a wrapper that forwards unknown attributes to the
    transport it wraps (`__getattr__`) and intercepts `receive()` would otherwise be
    bypassed by its inner transport's `push_to`.
    """
    if callable(getattr(type(transport), "push_to", None)):
        return transport  # type: ignore[return-value]
    return None
