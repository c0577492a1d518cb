"""A transport wrapper that checks every frame against the MCP schemas as it passes.

Layer: testing. It wraps any `mcpkit.transports.base.Transport` and is one itself, so a test
can slip it under a real client or server and have the whole conversation refereed by a
`FrameValidator` without changing the code under test.
"""

from __future__ import annotations

import contextlib
from typing import Any, Literal, TypeAlias

from mcpkit.protocol.errors import MCPKitError
from mcpkit.testing.frames import Direction, FrameSchemaError, FrameValidator
from mcpkit.transports.base import FrameSink, Transport, pushing

__all__ = ["Side", "ValidatingTransport"]

Side: TypeAlias = Literal["client", "server"]


class ValidatingTransport:
    """Validates each frame sent and received, then passes it on unchanged.

    `side` is the end of the conversation the wrapped transport belongs to: on the client's
    transport, sent frames travel client->server and received ones server->client; the
    server's is the other way round. A frame that fails raises `FrameSchemaError` from `send`
    (before it reaches the wire) or from `receive` (after it was read), and is also kept in
    `failures`, so a failure swallowed by the code under test can still be reported at the end
    of the test. Frames that are not JSON pass unchecked (and are recorded as skipped); use
    `send_unchecked` for valid JSON a test makes invalid on purpose. Any other attribute is
    the inner transport's.
    """

    def __init__(self, inner: Transport, validator: FrameValidator, *, side: Side) -> None:
        if side not in ("client", "server"):
            raise ValueError(f"side must be 'client' or 'server', not {side!r}")
        self.inner = inner
        self.validator = validator
        self.side = side
        self.failures: list[FrameSchemaError] = []
        self._outgoing: Direction = "c2s" if side == "client" else "s2c"
        self._incoming: Direction = "s2c" if side == "client" else "c2s"

    async def send(self, frame: bytes) -> None:
        self._check(frame, self._outgoing)
        await self.inner.send(frame)

    async def send_unchecked(self, frame: bytes) -> None:
        """Send a frame the test made invalid on purpose; it is recorded, not checked."""
        self.validator.skip(frame, self._outgoing, note="sent unchecked on purpose")
        await self.inner.send(frame)

    async def receive(self) -> bytes:
        frame = await self.inner.receive()
        self._check(frame, self._incoming)
        return frame

    def push_to(self, sink: FrameSink) -> bool:
        """Push mode when the inner transport has it (`PushTransport`). A pushed frame that
        fails is kept in `failures` and still delivered: there is no caller to raise to."""
        inner = pushing(self.inner)
        return inner is not None and inner.push_to(_CheckingSink(self, sink))

    def resume_push(self) -> None:
        inner = pushing(self.inner)
        assert inner is not None
        inner.resume_push()

    async def aclose(self) -> None:
        await self.inner.aclose()

    def describe(self) -> str:
        return self.inner.describe()

    def __getattr__(self, name: str) -> Any:
        if name == "inner":  # not set yet (during construction or unpickling)
            raise AttributeError(name)
        return getattr(self.inner, name)

    def check_incoming(self, frame: bytes) -> None:
        """Check a frame bound for the wrapped end that reaches it some other way than
        `receive()` (an HTTP session is fed its frames; see `Server.attach`)."""
        self._check(frame, self._incoming)

    def _check(self, frame: bytes, direction: Direction) -> None:
        try:
            self.validator.check(frame, direction)
        except FrameSchemaError as exc:
            self.failures.append(exc)
            raise


class _CheckingSink:
    """Checks each pushed frame on its way to the real sink."""

    def __init__(self, transport: ValidatingTransport, sink: FrameSink) -> None:
        self._transport = transport
        self._sink = sink

    def deliver(self, frame: bytes) -> bool:
        with contextlib.suppress(FrameSchemaError):  # kept in `failures`, reported later
            self._transport.check_incoming(frame)
        return self._sink.deliver(frame)

    def failed(self, error: MCPKitError) -> None:
        self._sink.failed(error)
