"""The one interface every transport implements.

Layer: transports. A transport moves whole frames: each frame is the UTF-8 bytes of one
JSON-RPC message (or batch), with no framing bytes (no trailing newline). It does not parse
JSON; the protocol layer does.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["Transport"]


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
