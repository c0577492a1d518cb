"""The queue between the HTTP transports' readers and `receive()`."""

from __future__ import annotations

import anyio
import pytest

from mcpkit.protocol.errors import BrokenError, ClosedError, MCPKitError
from mcpkit.transports.inbox import Inbox

pytestmark = pytest.mark.anyio


async def test_frames_come_in_order_then_the_failure_then_it_again() -> None:
    inbox = Inbox("test")
    inbox.put(b"1")
    inbox.put(b"2")
    inbox.fail(BrokenError("gone"))
    inbox.fail(BrokenError("later"))  # the first failure is the one that counts
    inbox.put(b"3")  # after the failure: nobody will read it
    assert [await inbox.get(), await inbox.get()] == [b"1", b"2"]
    for _ in range(2):
        with pytest.raises(BrokenError, match="gone"):
            await inbox.get()


async def test_a_waiting_reader_is_woken_by_a_frame_and_by_close() -> None:
    inbox = Inbox("test")
    got: list[bytes] = []

    async def read() -> None:
        got.append(await inbox.get())

    async with anyio.create_task_group() as tg:
        tg.start_soon(read)
        await anyio.sleep(0.01)
        inbox.put(b"x")
    assert got == [b"x"]
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:

            async def closed() -> None:
                with pytest.raises(ClosedError, match="test is closed"):
                    await inbox.get()

            tg.start_soon(closed)
            await anyio.sleep(0.01)
            inbox.close()


async def test_a_second_concurrent_reader_is_an_error_not_a_hang() -> None:
    inbox = Inbox("test")
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(inbox.get)
            await anyio.sleep(0.01)
            with pytest.raises(RuntimeError, match="already receiving"):
                await inbox.get()
            inbox.put(b"for the first")


class Sink:
    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.errors: list[MCPKitError] = []

    def deliver(self, frame: bytes) -> bool:
        self.frames.append(frame)
        return True

    def failed(self, error: MCPKitError) -> None:
        self.errors.append(error)


async def test_pushed_frames_go_to_the_sink_in_order_then_the_end_once() -> None:
    inbox = Inbox("test")
    inbox.put(b"1")  # queued before the push: delivered first
    sink = Sink()
    assert inbox.push_to(sink)
    inbox.put(b"2")
    assert sink.frames == [b"1", b"2"] and sink.errors == []
    inbox.fail(BrokenError("gone"))
    inbox.fail(BrokenError("later"))
    inbox.put(b"3")
    inbox.close()
    assert sink.frames == [b"1", b"2"]
    assert [str(e) for e in sink.errors] == ["gone"]


async def test_a_closed_inbox_tells_a_new_sink_and_a_waiting_get_refuses_push() -> None:
    inbox = Inbox("test")
    inbox.close()
    sink = Sink()
    assert inbox.push_to(sink)
    assert len(sink.errors) == 1 and isinstance(sink.errors[0], ClosedError)
    waited = Inbox("test")
    async with anyio.create_task_group() as tg:
        tg.start_soon(waited.get)
        await anyio.sleep(0.01)
        assert not waited.push_to(Sink())  # a get() is under way: it stays the way in
        waited.put(b"x")
