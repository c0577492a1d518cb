"""The loop-driven pipe I/O under the stdio transports (`mcpkit.transports.pipes`), on real
OS pipes: order, flow control both ways, end of input, a vanished reader, and the fd's
blocking mode given back."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import anyio
import anyio.lowlevel
import pytest

from mcpkit.transports.pipes import PipeReader, PipeWriter

pytestmark = pytest.mark.anyio


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read_fd, write_fd = os.pipe()
    yield read_fd, write_fd
    for fd in (read_fd, write_fd):
        with contextlib.suppress(OSError):
            os.close(fd)


async def read_all(reader: PipeReader, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = await reader.read()
        assert chunk, "end of input before everything arrived"
        data += chunk
    return data


@pytest.mark.parametrize("combine", [True, False], ids=["combined", "direct"])
async def test_a_full_pipe_queues_and_everything_arrives_in_order(
    pipe: tuple[int, int], combine: bool
) -> None:
    # direct (a client's writer): the pipe fills in the middle of a frame, whose rest and
    # every later frame wait in the queue for writability
    read_fd, write_fd = pipe
    writer = PipeWriter(write_fd, combine=combine)
    frames = [bytes([65 + i % 26]) * 50_000 for i in range(20)]  # 1 MB: far over a pipe
    for frame in frames:
        writer.write((frame, b"\n"))
    assert writer.queued > 0  # nobody read yet: the rest waits in the queue, not in a thread
    reader = PipeReader(read_fd)
    with anyio.fail_after(10):
        data = await read_all(reader, sum(len(f) + 1 for f in frames))
        await writer.flush()
    assert data == b"".join(frame + b"\n" for frame in frames)
    assert writer.queued == 0
    writer.close()
    reader.close()


async def test_drain_waits_for_a_slow_reader(pipe: tuple[int, int]) -> None:
    read_fd, write_fd = pipe
    writer = PipeWriter(write_fd, high_water=100_000)
    writer.write((b"x" * 300_000,))
    assert writer.behind  # what a sender asks before waiting in drain()
    drained = anyio.Event()

    async def drain() -> None:
        await writer.drain()
        drained.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(drain)
        await anyio.sleep(0.05)
        assert not drained.is_set()  # the reader has not read: the writer must wait
        reader = PipeReader(read_fd)
        with anyio.fail_after(10):
            await read_all(reader, 300_000)
            await drained.wait()
    assert not writer.behind
    writer.close()
    reader.close()


async def test_a_vanished_reader_is_an_os_error_not_a_hang(pipe: tuple[int, int]) -> None:
    read_fd, write_fd = pipe
    writer = PipeWriter(write_fd)
    os.close(read_fd)
    writer.write((b"hello\n",))  # queued: the write itself happens at the end of the pass
    with anyio.fail_after(5):
        await writer.flush()
    with pytest.raises(BrokenPipeError):  # the next write tells, and it stays failed
        writer.write((b"again\n",))
    with pytest.raises(BrokenPipeError):
        writer.write((b"again\n",))
    writer.close()
    immediate = PipeWriter(write_fd, combine=False)  # a client's: fails the write itself
    with pytest.raises(BrokenPipeError):
        immediate.write((b"now\n",))
    immediate.close()


async def test_writes_in_one_pass_are_combined(pipe: tuple[int, int]) -> None:
    read_fd, write_fd = pipe
    writer = PipeWriter(write_fd)
    for i in range(100):
        writer.write((b'{"i":%d}' % i, b"\n"))
    assert writer.queued == sum(len(b'{"i":%d}\n' % i) for i in range(100))
    await anyio.lowlevel.checkpoint()  # one pass of the loop: one writev carried them all
    assert writer.queued == 0
    expected = b"".join(b'{"i":%d}\n' % i for i in range(100))
    assert os.read(read_fd, 65536) == expected
    writer.close()


async def test_a_reader_gone_while_data_is_queued_fails_drain(pipe: tuple[int, int]) -> None:
    read_fd, write_fd = pipe
    writer = PipeWriter(write_fd, high_water=1)
    writer.write((b"y" * 200_000,))
    os.close(read_fd)
    with anyio.fail_after(5), pytest.raises(BrokenPipeError):
        await writer.drain()
    writer.close()


async def test_reader_pauses_over_high_water_and_resumes(pipe: tuple[int, int]) -> None:
    read_fd, write_fd = pipe
    reader = PipeReader(read_fd, high_water=10)
    os.write(write_fd, b"a" * 1000)
    await anyio.sleep(0.05)  # the loop reads once, then stops watching (over high water)
    os.write(write_fd, b"b" * 1000)
    with anyio.fail_after(5):
        data = await read_all(reader, 2000)
    assert data == b"a" * 1000 + b"b" * 1000
    os.close(write_fd)
    with anyio.fail_after(5):
        assert await reader.read() == b""  # end of input
        assert await reader.read() == b""
    reader.close()


async def test_close_wakes_a_waiting_read(pipe: tuple[int, int]) -> None:
    read_fd, _ = pipe
    reader = PipeReader(read_fd)
    async with anyio.create_task_group() as tg:
        got: list[bytes] = []

        async def wait() -> None:
            got.append(await reader.read())

        tg.start_soon(wait)
        await anyio.sleep(0.01)
        reader.close()
    assert got == [b""]


async def test_close_gives_the_fd_its_blocking_mode_back(pipe: tuple[int, int]) -> None:
    _, write_fd = pipe
    assert os.get_blocking(write_fd)
    writer = PipeWriter(write_fd)
    assert not os.get_blocking(write_fd)
    writer.close()
    assert os.get_blocking(write_fd)


async def test_regular_files_are_refused_so_callers_can_fall_back() -> None:
    fd = os.open(__file__, os.O_RDONLY)
    try:
        with pytest.raises(PermissionError):
            PipeReader(fd)
    finally:
        os.close(fd)
