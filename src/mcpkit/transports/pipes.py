"""Pipe I/O on the asyncio event loop itself: no worker threads, no per-read registration.

Layer: transports. Why this exists: a worker-thread hop per frame (anyio.to_thread) costs
about 100 µs and a fresh epoll registration per read about 20 µs, which together were most
of a small stdio request's cost. Here the loop watches the read end once for the
connection's life (`add_reader`), and writes go straight to a non-blocking fd from the
calling task; only what the pipe cannot take right now is buffered and flushed when the fd
becomes writable (`add_writer`).

Flow control, both ways, so memory stays bounded whatever the peer does:
- `PipeReader` stops watching the fd while more than `high_water` bytes are unread, and
  resumes when the consumer has taken them: a fast writer is slowed by the pipe itself.
- `PipeWriter.write` never blocks and never drops; `drain()` waits while more than
  `high_water` bytes are queued (the peer is not reading). Writes are combined: one
  `writev` per pass of the loop carries every frame queued during it.

Both are asyncio-only (the stdio transports fall back to threads elsewhere) and used from the
loop's thread.
"""

from __future__ import annotations

__all__ = ["PipeReader", "PipeWriter"]

import asyncio
import contextlib
import itertools
import os
from collections import deque
from collections.abc import Callable, Sequence

_CHUNK = 65536
_HIGH_WATER = 4 * 1024 * 1024
_IOV_MAX = 1024  # buffers per writev (POSIX IOV_MAX on Linux)


class PipeReader:
    """Chunks from a readable fd (pipe, socket, TTY), as the loop sees them arrive.

    `read()` returns the next chunk, `b""` at end of input, or raises the `OSError` the read
    failed with. The fd's blocking mode is left alone: it is only read when epoll says it is
    readable, so a read returns at once either way.
    """

    def __init__(self, fd: int, *, high_water: int = _HIGH_WATER) -> None:
        self._fd = fd
        self._loop = asyncio.get_running_loop()
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._high_water = high_water
        self._eof = False
        self._error: OSError | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._watching = False
        self._on_chunk: Callable[[bytes], bool] | None = None
        self._watch()  # raises PermissionError for what epoll refuses (regular files)

    def push(self, on_chunk: Callable[[bytes], bool]) -> None:
        """From now on hand each chunk to `on_chunk` from the loop's callback, `b""` at
        the end (after a read error too), instead of keeping it for `read()`. Chunks
        already kept go first. `on_chunk` returns False to stop reading until `resume()`."""
        self._on_chunk = on_chunk
        keep = True
        while self._chunks:
            chunk = self._chunks.popleft()
            self._buffered -= len(chunk)
            keep = on_chunk(chunk) and keep
        if self._eof:
            on_chunk(b"")
        elif keep:
            self._watch()
        else:
            self._unwatch()

    def resume(self) -> None:
        """Read again after `on_chunk` asked to stop (push mode)."""
        self._watch()

    def _watch(self) -> None:
        if not self._watching and not self._eof:
            self._loop.add_reader(self._fd, self._on_readable)
            self._watching = True

    def _unwatch(self) -> None:
        if self._watching:
            self._loop.remove_reader(self._fd)
            self._watching = False

    def _on_readable(self) -> None:
        try:
            data = os.read(self._fd, _CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._error, data = exc, b""
        if self._on_chunk is not None:  # push mode
            if not data:
                self._eof = True
                self._unwatch()
            if not self._on_chunk(data) and data:
                self._unwatch()
            return
        if data:
            self._chunks.append(data)
            self._buffered += len(data)
            if self._buffered > self._high_water:
                self._unwatch()  # the consumer is behind: let the pipe fill up instead
        else:
            self._eof = True
            self._unwatch()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def read(self) -> bytes:
        """The next chunk; `b""` at end of input.

        Raises:
            OSError: reading failed (the error is raised once, then end of input).
        """
        while not self._chunks and not self._eof:
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self._chunks:
            chunk = self._chunks.popleft()
            self._buffered -= len(chunk)
            if self._buffered <= self._high_water:
                self._watch()
            return chunk
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return b""

    def close(self) -> None:
        """Stop watching the fd (it stays open: it belongs to whoever opened it)."""
        self._eof = True
        self._unwatch()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class PipeWriter:
    """Writes to an fd switched to non-blocking mode, from the loop's thread, in order.

    `write()` only queues; the queue goes out in one `writev` at the end of the loop's
    current pass (`call_soon`), so the 64 answers a busy server produces in one pass cost one
    system call and one wake-up of the reader instead of 64. With `combine=False` (a client:
    one request at a time, and a dead server must fail the send at once) `write()` writes
    right away. What the pipe cannot take is
    written when the fd becomes writable. Frames queued by one call are never interleaved
    with another's. `close()` puts the fd back in blocking mode, which matters when it is
    shared with a shell (a terminal) or with the process that started us.
    """

    def __init__(self, fd: int, *, high_water: int = _HIGH_WATER, combine: bool = True) -> None:
        self._fd = fd
        self._loop = asyncio.get_running_loop()
        self._combine = combine
        self._was_blocking = os.get_blocking(fd)
        os.set_blocking(fd, False)
        self._queue: deque[bytes | memoryview] = deque()
        self._queued = 0
        self._high_water = high_water
        self._error: OSError | None = None
        self._drained: asyncio.Future[None] | None = None
        self._scheduled = False  # a flush is queued with call_soon
        self._watching = False  # waiting for the fd to become writable
        self._closed = False

    @property
    def queued(self) -> int:
        """Bytes accepted but not yet in the pipe."""
        return self._queued

    @property
    def behind(self) -> bool:
        """Whether `drain()` would wait: more than `high_water` bytes are queued. (A
        server answering 64 requests in one pass queues each answer; only a reader that
        stopped reading makes it worth a call to `drain()`.)"""
        return self._queued > self._high_water

    def write(self, parts: Sequence[bytes]) -> int:
        """Queue `parts` to go out back to back, soon (see the class docstring). Returns
        the bytes queued (`queued`): 0 when a direct write took them all.

        Raises:
            OSError: the fd failed (e.g. EPIPE: the reader is gone) on an earlier write.
        """
        if self._error is not None:
            raise self._error
        if self._closed:
            raise BrokenPipeError("the pipe writer is closed")
        queue = self._queue
        if not self._combine and not queue:  # nothing waits: straight into the pipe
            try:
                written = os.writev(self._fd, parts)
            except (BlockingIOError, InterruptedError):
                written = 0
            except OSError as exc:
                self._error = exc
                raise
            if written < sum(map(len, parts)):  # (rarely: the pipe is full)
                self._keep_rest(parts, written)
            return self._queued
        for part in parts:
            queue.append(part)
            self._queued += len(part)
        if not (self._scheduled or self._watching):  # (what a client queued is watched)
            self._scheduled = True
            self._loop.call_soon(self._flush)
        return self._queued

    def _keep_rest(self, parts: Sequence[bytes], written: int) -> None:
        """Queue what a direct write left of `parts`, to go when the fd is writable."""
        for part in parts:
            if written >= len(part):
                written -= len(part)
                continue
            self._queue.append(memoryview(part)[written:])
            self._queued += len(part) - written
            written = 0
        self._watch()

    def _flush(self) -> None:
        """Write what the pipe takes now; wait for writability for the rest."""
        self._scheduled = False
        queue = self._queue
        try:
            while queue:
                batch = list(itertools.islice(queue, _IOV_MAX))
                written = os.writev(self._fd, batch)
                self._queued -= written
                if not self._queued:  # all of it went (the usual case)
                    queue.clear()
                    break
                for part in batch:
                    if written >= len(part):
                        written -= len(part)
                        queue.popleft()
                        continue
                    queue[0] = memoryview(part)[written:]
                    self._watch()
                    return
        except (BlockingIOError, InterruptedError):
            self._watch()
            return
        except OSError as exc:
            self._error = exc
            queue.clear()
            self._queued = 0
        self._unwatch()
        self._wake()

    def _watch(self) -> None:
        if not self._watching and not self._closed:
            self._loop.add_writer(self._fd, self._flush)
            self._watching = True

    def _unwatch(self) -> None:
        if self._watching:
            self._loop.remove_writer(self._fd)
            self._watching = False

    def _wake(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    async def drain(self) -> None:
        """Wait while more than `high_water` bytes are queued (the reader is slow).

        Raises:
            OSError: the fd failed while waiting.
        """
        while self._queued > self._high_water and self._error is None:
            await self._until_flushed()
        if self._error is not None:
            raise self._error

    async def flush(self) -> None:
        """Wait until everything queued is in the pipe (or the fd failed)."""
        while self._queue and self._error is None and not self._closed:
            await self._until_flushed()

    async def _until_flushed(self) -> None:
        self._drained = self._loop.create_future()
        try:
            await self._drained
        finally:
            self._drained = None

    def close(self) -> None:
        """Stop flushing and restore the fd's blocking mode (the fd stays open)."""
        if self._closed:
            return
        self._closed = True
        self._unwatch()
        self._queue.clear()
        self._queued = 0
        self._wake()
        with contextlib.suppress(OSError):
            os.set_blocking(self._fd, self._was_blocking)
