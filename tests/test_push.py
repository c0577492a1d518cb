"""Push mode: a transport hands frames to a sink as they arrive (`PushTransport`), and the
peer acts on them in the I/O callback, keeping order behind its async handlers.

Against real subprocesses and pipes: the stdio transports (client and server) pushing to a
recording sink, and a `Client` (whose peer uses push mode) against a raw server script that
floods it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from mcpkit.client import Client
from mcpkit.client.handlers import Handlers
from mcpkit.protocol.errors import (
    BrokenError,
    ClosedError,
    FrameTooLarge,
    MCPKitError,
    TransportError,
)
from mcpkit.transports.base import Transport, pushing
from mcpkit.transports.pipes import PipeReader
from mcpkit.transports.stdio import stdio_client, stdio_server

pytestmark = pytest.mark.anyio
FIXTURES = Path(__file__).parent / "fixtures"
PY = sys.executable


class Sink:
    """Keeps what a transport pushes; `keep` is what `deliver` answers."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.errors: list[MCPKitError] = []
        self.got = anyio.Event()
        self.ended = anyio.Event()

    def deliver(self, frame: bytes) -> bool:
        self.frames.append(frame)
        self.got.set()
        return True

    def failed(self, error: MCPKitError) -> None:
        self.errors.append(error)
        self.got.set()
        if isinstance(error, TransportError):
            self.ended.set()

    async def until(self, count: int) -> None:
        with anyio.fail_after(10):
            while len(self.frames) + len(self.errors) < count:
                self.got = anyio.Event()
                await self.got.wait()


async def test_stdio_pushes_frames_reports_junk_and_ends_once_on_close() -> None:
    junk: list[bytes] = []
    sink = Sink()
    async with stdio_client(PY, [str(FIXTURES / "proc_junk.py")], on_junk=junk.append) as t:
        assert pushing(t) is t and t.push_to(sink)
        await sink.until(2)
        await t.send(b'{"echo": 1}')
        await sink.until(3)
    assert sink.frames == [b'{"ready": true}', b"  [1, 2]", b'{"echo": 1}']
    assert junk == [b"Starting demo server v1.0", b"  WARN: no config found"]
    assert len(sink.errors) == 1 and isinstance(sink.errors[0], ClosedError)


async def test_stdio_push_reports_an_oversize_frame_and_carries_on() -> None:
    sink = Sink()
    async with stdio_client(PY, [str(FIXTURES / "proc_echo.py")], max_frame=100) as t:
        assert t.push_to(sink)
        await t.send(b'{"big": "' + b"x" * 200 + b'"}')
        await t.send(b'{"small": 1}')
        await sink.until(2)
        assert isinstance(sink.errors[0], FrameTooLarge)
        assert sink.frames == [b'{"small": 1}']


async def test_stdio_push_ends_with_the_exit_code_and_stderr() -> None:
    sink = Sink()
    async with stdio_client(PY, [str(FIXTURES / "proc_crash.py")]) as t:
        assert t.push_to(sink)
        with anyio.fail_after(10):
            await sink.ended.wait()
        (error,) = sink.errors
        assert isinstance(error, BrokenError)
        assert "exit code 3" in str(error) and "fatal: config file missing" in str(error)
    assert len(sink.errors) == 1  # closing after the end says nothing more


class Forwarding:
    """A wrapper that intercepts `receive()` and forwards every other attribute."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.received = 0

    async def send(self, frame: bytes) -> None:
        await self.inner.send(frame)

    async def receive(self) -> bytes:
        frame = await self.inner.receive()
        self.received += 1
        return frame

    async def aclose(self) -> None:
        await self.inner.aclose()

    def describe(self) -> str:
        return self.inner.describe()

    def __getattr__(self, name: str) -> Any:
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)


async def test_a_forwarding_wrapper_is_not_bypassed() -> None:
    """Push mode is the wrapper's class's to offer, not an attribute it forwards."""
    async with stdio_client(PY, [str(FIXTURES.parent / "framework_server.py")]) as t:
        wrapper = Forwarding(t)
        assert pushing(wrapper) is None
        async with Client(wrapper, era="legacy") as client:
            await client.ping()
    assert wrapper.received >= 2  # the initialize answer and the ping's


FLOOD = 2000
FLOODING_SERVER = f"""
import json, sys
out = sys.stdout
for line in sys.stdin:
    msg = json.loads(line)
    if "id" not in msg:
        continue
    if msg["method"] == "initialize":
        result = {{"protocolVersion": "2025-11-25", "capabilities": {{"logging": {{}}}},
                  "serverInfo": {{"name": "flood", "version": "1"}}}}
    else:
        for i in range({FLOOD}):
            note = {{"level": "info", "data": i}}
            out.write(json.dumps({{"jsonrpc": "2.0", "method": "notifications/message",
                                  "params": note}}) + "\\n")
        result = {{}}
    out.write(json.dumps({{"jsonrpc": "2.0", "id": msg["id"], "result": result}}) + "\\n")
    out.flush()
"""


async def test_a_slow_listener_pauses_the_pipe_and_keeps_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Notifications pile up behind a slow async listener: the peer stops reading the pipe
    (and starts again), every one is handled in order, and the answer that came after
    them is only settled after them."""
    resumed = 0
    original = PipeReader.resume

    def counting(self: PipeReader) -> None:
        nonlocal resumed
        resumed += 1
        original(self)

    monkeypatch.setattr(PipeReader, "resume", counting)
    seen: list[int] = []

    async def on_log(params: Any) -> None:
        await anyio.lowlevel.checkpoint()
        seen.append(params.data)

    with anyio.fail_after(30):
        flood = [PY, "-c", FLOODING_SERVER]
        async with Client(flood, era="legacy", handlers=Handlers(on_log=on_log)) as c:
            await c.ping()
            assert seen == list(range(FLOOD))
    assert resumed > 0


async def test_stdio_server_pushes_frames_then_stdin_closed() -> None:
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    sink = Sink()
    try:
        async with stdio_server(stdin=in_r, stdout=out_w, max_frame=16) as t:
            assert t.push_to(sink)
            os.write(in_w, b'{"x":1}\n{"much too long":1}\n{"y"')
            os.write(in_w, b":2}\n")
            await sink.until(3)
            assert sink.frames == [b'{"x":1}', b'{"y":2}']
            assert isinstance(sink.errors[0], FrameTooLarge)
            os.close(in_w)
            in_w = -1
            with anyio.fail_after(10):
                await sink.ended.wait()
        assert [type(e) for e in sink.errors] == [FrameTooLarge, BrokenError]
    finally:
        for fd in (in_r, in_w, out_r, out_w):
            if fd >= 0:
                os.close(fd)


async def test_stdio_server_push_ends_with_closed_on_aclose() -> None:
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    sink = Sink()
    try:
        async with stdio_server(stdin=in_r, stdout=out_w) as t:
            assert t.push_to(sink)
        assert len(sink.errors) == 1 and isinstance(sink.errors[0], ClosedError)
    finally:
        for fd in (in_r, in_w, out_r, out_w):
            os.close(fd)


class BuggySink(Sink):
    def deliver(self, frame: bytes) -> bool:
        raise RuntimeError("a bug in the sink")


async def test_a_sink_that_fails_ends_the_connection_with_the_error_named() -> None:
    """An exception in the pipe's callback would be lost to the loop's log and the frame
    with it; the transport ends instead, so nothing waits forever."""
    sink = BuggySink()
    async with stdio_client(PY, [str(FIXTURES / "proc_echo.py")]) as t:
        assert t.push_to(sink)
        await t.send(b'{"echo": 1}')
        with anyio.fail_after(10):
            await sink.ended.wait()
    (error, *_) = sink.errors
    assert isinstance(error, BrokenError) and "a bug in the sink" in str(error)
