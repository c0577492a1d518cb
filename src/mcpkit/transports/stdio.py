"""The stdio transport: one JSON-RPC message per line over a process's stdin and stdout.

Layer: transports. It moves frames (lines without their newline) and reports failures with
the TransportError family. It must not parse JSON, answer messages or retry anything: the
protocol layer answers bad lines, and the client layer decides about timeouts.

Public forms, both async context managers because each owns work that must end with it:
`stdio_server(...)` -> `StdioServerTransport` for a server run by a host, and
`stdio_client(command, args, ...)` -> `StdioClientTransport` for a client spawning a server.
The client makes the server's stdin/stdout pipes itself and drives its ends with the same
loop-driven `pipes` as the server; stderr goes through anyio and is only drained.
The client is not a plain `connect()` coroutine because draining the server's stderr needs a
background task, and an anyio task needs a task group owned by the caller's scope.

Server pipes, on asyncio: the event loop watches stdin for the connection's life and writes
go straight to a non-blocking stdout, queued when the pipe is full (`pipes.PipeReader`,
`pipes.PipeWriter`: no thread hop per frame, which was most of a small request's cost).
Elsewhere, and for what epoll refuses (regular files, /dev/null) or file objects without a
descriptor: stdin is awaited with `anyio.wait_readable` or read in a worker thread, and each
frame is written whole in a worker thread under a lock. Either way no sender ever leaves half
a frame behind.

Junk (client): servers sometimes print banners or logs to stdout. A line whose first
non-whitespace byte is not `{` or `[` cannot be a JSON-RPC message: it is not returned but
counted, kept (the last few, `junk_lines`) and passed to `on_junk`.

Shutdown (client): close stdin, wait `shutdown_timeout`, SIGTERM the process group, wait
again, SIGKILL the group (which also takes any children the server left in it), reap.
The server's exit is observed as the end of its stdout (a child that inherited and keeps
stdout open delays that; the shutdown above still takes it down).
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_SHUTDOWN_TIMEOUT",
    "StdioClientTransport",
    "StdioServerTransport",
    "StreamArg",
    "stdio_client",
    "stdio_server",
]

import asyncio
import contextlib
import logging
import os
import re
import shlex
import signal
import subprocess
import sys
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import BinaryIO, TypeVar

import anyio
import anyio.abc
import anyio.lowlevel
import anyio.to_thread
import msgspec

from mcpkit.protocol.errors import (
    BrokenError,
    ClosedError,
    ConnectError,
    FrameTooLarge,
    LocalProtocolError,
    TransportError,
)
from mcpkit.protocol.framing import DEFAULT_MAX_FRAME, FrameItem, LineFramer
from mcpkit.transports.base import FrameSink
from mcpkit.transports.pipes import PipeReader, PipeWriter

logger = logging.getLogger(__name__)

DEFAULT_SHUTDOWN_TIMEOUT = 2.0
"""Seconds to wait after closing stdin, and again after SIGTERM, before escalating."""

_CHUNK = 65536
_STDERR_LINE_MAX = 8192  # a longer stderr line is replaced by a note: the tail stays small
_JUNK_KEPT = 20
_EXIT_GRACE = 1.0  # how long a BrokenError waits for the exit code and the last stderr
_STDERR_DRAIN = 0.5  # how long aclose lets the stderr task read what is left
_FLUSH_TIMEOUT = 5.0  # how long the server's aclose waits for stdout to take what is queued
_JSON_START = re.compile(rb"\s*[\[{]")
_ENDED = (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError)

_T = TypeVar("_T")
_A = TypeVar("_A")
StreamArg = int | BinaryIO
"""A file descriptor or a binary file object."""


def _fileno(stream: StreamArg) -> int | None:
    if isinstance(stream, int):
        return stream
    try:
        return stream.fileno()
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is both
        return None


def _on_asyncio() -> bool:
    """Whether the pipes can be driven by the asyncio loop itself (see `pipes`)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _check_frame(frame: bytes) -> None:
    """A newline inside a frame would split it in two on the wire: refuse to send it."""
    if frame.find(b"\n") >= 0:  # (`in` first tries b"\n" as an int: an error per call)
        raise LocalProtocolError("a stdio frame must not contain a newline")


def _push_items(
    sink: FrameSink, items: list[FrameItem], junk: Callable[[bytes], None] | None = None
) -> bool:
    """Hand framed items to a push sink: frames to `deliver`, oversize lines to `failed`,
    and, when `junk` is given, lines that cannot be JSON-RPC to it. False: the sink is
    behind (every item is still handed over: they were read already).

    This runs in the pipe's I/O callback, where an exception would only be logged by the
    loop and the frame lost, leaving whoever waits for it waiting: a sink that fails (a bug)
    ends the connection instead, with the error named."""
    keep = True
    try:
        for item in items:
            if isinstance(item, FrameTooLarge):
                sink.failed(item)
            elif junk is not None and item[0] != 0x7B and not _JSON_START.match(item):  # {
                junk(item)
            else:
                keep = sink.deliver(item) and keep
    except Exception as exc:
        logger.exception("handling a received frame failed")
        sink.failed(BrokenError(f"handling a received frame failed: {exc!r}"))
        return False
    return keep


class _ByteSource:
    """Reads chunks of stdin without blocking the event loop (see the module docstring)."""

    def __init__(self, stream: StreamArg) -> None:
        self._stream = stream
        self._fd = _fileno(stream)
        self._pollable = self._fd is not None
        self.pipe: PipeReader | None = None
        if self._fd is not None and _on_asyncio():
            try:
                self.pipe = PipeReader(self._fd)
            except (OSError, ValueError):  # epoll refuses regular files and /dev/null
                self._pollable = False

    async def read(self) -> bytes:
        """The next chunk, or b"" at end of file; a failing stdin counts as a broken peer."""
        try:
            return await self._read()
        except OSError as exc:  # e.g. EBADF: the process was started with stdin closed
            raise BrokenError(f"stdin read failed: {exc}") from exc

    async def _read(self) -> bytes:
        if self.pipe is not None:
            return await self.pipe.read()
        fd = self._fd
        if fd is None:
            return await anyio.to_thread.run_sync(self._read_file)
        while self._pollable:
            try:
                await anyio.wait_readable(fd)
            except OSError:  # epoll refuses regular files and /dev/null: they never block
                self._pollable = False
                break
            try:
                return os.read(fd, _CHUNK)
            except BlockingIOError:  # a non-blocking fd someone else drained first
                continue
        return await anyio.to_thread.run_sync(os.read, fd, _CHUNK)

    def _read_file(self) -> bytes:
        stream = self._stream
        assert not isinstance(stream, int)
        read1 = getattr(stream, "read1", None)
        return bytes(read1(_CHUNK) if read1 is not None else stream.read(_CHUNK))


class _ByteSink:
    """Writes whole buffers to stdout: on the loop through a non-blocking `PipeWriter`
    when it can, else blocking, in a worker thread."""

    def __init__(self, stream: StreamArg) -> None:
        self._stream = stream
        self._fd = _fileno(stream)
        if self._fd is not None and not isinstance(stream, int):
            stream.flush()  # what the file object buffered goes out before our frames
        self.pipe: PipeWriter | None = None
        if self._fd is not None and _on_asyncio():
            self.pipe = PipeWriter(self._fd)

    def write(self, data: bytes) -> None:
        if self._fd is None:
            assert not isinstance(self._stream, int)
            self._stream.write(data)
            self._stream.flush()
            return
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]


class _Interruptible:
    """What both ends share: a closed flag, and a pending read that `aclose()` can end."""

    def __init__(self) -> None:
        self._closing = False
        self._read_scope: anyio.CancelScope | None = None

    def describe(self) -> str:
        return "stdio"

    def _check_open(self) -> None:
        if self._closing:
            raise ClosedError(f"stdio transport ({self.describe()}) is closed")

    def _interrupt(self) -> None:
        """Mark closed and wake a waiting read, which then raises `ClosedError`."""
        self._closing = True
        if self._read_scope is not None:
            self._read_scope.cancel()

    async def _interruptible(self, read: Callable[[], Awaitable[_T]]) -> _T:
        with anyio.CancelScope() as scope:
            self._read_scope = scope
            try:
                return await read()
            finally:
                self._read_scope = None
        raise ClosedError(f"stdio transport ({self.describe()}) is closed")


class StdioServerTransport(_Interruptible):
    """The server end of stdio: frames in from stdin, frames out to stdout.

    `receive()` raises `BrokenError("stdin closed")` at end of input so the server loop can
    exit, and `FrameTooLarge` for an oversize line (the next call goes on reading). Lines
    are passed through as they are, JSON or not: the protocol layer answers bad ones.
    """

    def __init__(self, source: _ByteSource, sink: _ByteSink, max_frame: int) -> None:
        super().__init__()
        self._source = source
        self._out = sink
        self._framer = LineFramer(max_frame)
        self._pending: deque[FrameItem] = deque()
        self._eof = False
        self._receive_lock = asyncio.Lock()  # (asyncio: no checkpoint when free)
        self._send_lock = anyio.Lock(fast_acquire=True)
        self._sink: FrameSink | None = None  # push mode (see `push_to`)

    def push_to(self, sink: FrameSink) -> bool:
        """Hand frames to `sink` from stdin's callback from now on (`PushTransport`); only
        where stdin is driven by the loop itself (`pipes`)."""
        pipe = self._source.pipe
        if pipe is None or self._receive_lock.locked() or self._closing:
            return False
        self._sink = sink
        pending, self._pending = list(self._pending), deque()
        _push_items(sink, pending)
        if self._eof:
            sink.failed(BrokenError("stdin closed"))
        else:
            pipe.push(self._on_chunk)
        return True

    def resume_push(self) -> None:
        if self._source.pipe is not None:
            self._source.pipe.resume()

    def _on_chunk(self, chunk: bytes) -> bool:
        assert self._sink is not None
        if chunk:
            return _push_items(self._sink, self._framer.feed(chunk))
        self._eof = True
        _push_items(self._sink, self._framer.end())
        if not self._closing:
            self._sink.failed(BrokenError("stdin closed"))
        return False

    async def receive(self) -> bytes:
        if self._pending and not self._receive_lock.locked():  # a frame already read
            item = self._pending.popleft()
            if isinstance(item, FrameTooLarge):
                raise item
            return item
        async with self._receive_lock:
            while not self._pending:
                self._check_open()
                if self._eof:
                    raise BrokenError("stdin closed")
                if self._source.pipe is not None:  # `aclose()` closes it, waking this
                    chunk = await self._source.read()
                    self._check_open()
                else:
                    chunk = await self._interruptible(self._source.read)
                if chunk:
                    self._pending.extend(self._framer.feed(chunk))
                else:
                    self._eof = True
                    self._pending.extend(self._framer.end())
            item = self._pending.popleft()
        if isinstance(item, FrameTooLarge):
            raise item
        return item

    async def send(self, frame: bytes) -> None:
        self._check_open()
        _check_frame(frame)
        pipe = self._out.pipe
        try:
            if pipe is not None:  # no thread, no lock: the write is whole and in order
                pipe.write((frame, b"\n"))
                if pipe.behind:
                    await pipe.drain()
                return
            async with self._send_lock:
                await anyio.to_thread.run_sync(self._out.write, frame + b"\n")
        except OSError as exc:  # EPIPE: the host stopped reading our stdout
            raise BrokenError(f"stdout closed: {exc}") from exc

    async def aclose(self) -> None:
        """Stop: later calls raise `ClosedError`, a waiting `receive()` too. Idempotent.

        What was sent but is still queued for stdout is flushed first (for up to
        `_FLUSH_TIMEOUT` seconds: a host that stopped reading cannot hold us forever). The
        process's stdin and stdout are left open: they belong to the process.
        """
        if self._sink is not None and not self._closing and not self._eof:
            self._sink.failed(ClosedError(f"stdio transport ({self.describe()}) is closed"))
        self._interrupt()
        pipe = self._out.pipe
        if pipe is not None:
            with anyio.move_on_after(_FLUSH_TIMEOUT, shield=True):
                await pipe.flush()
            pipe.close()
        if self._source.pipe is not None:
            self._source.pipe.close()
        await anyio.lowlevel.checkpoint()


@contextlib.asynccontextmanager
async def stdio_server(
    *,
    stdin: StreamArg | None = None,
    stdout: StreamArg | None = None,
    max_frame: int = DEFAULT_MAX_FRAME,
) -> AsyncIterator[StdioServerTransport]:
    """Serve over this process's stdin/stdout (fd 0 and fd 1), or the given streams.

    With the default `stdout`, the real stdout is reserved for frames while the block runs:
    the protocol writes to a private duplicate of fd 1, fd 1 itself is pointed at stderr (so
    C extensions and child processes that write to it cannot corrupt the stream either) and
    `sys.stdout` is pointed at `sys.stderr`; both are restored after. Injected streams (fds
    or binary file objects) are for tests and embedding; then stdout is left alone.
    """
    saved = sys.stdout
    reserved: int | None = None
    target: StreamArg
    if stdout is None:
        if saved is not None:
            saved.flush()  # text printed before we started still goes out first
        target = reserved = os.dup(1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
    else:
        target = stdout
    source = _ByteSource(0 if stdin is None else stdin)
    sink = _ByteSink(target)
    transport = StdioServerTransport(source, sink, max_frame)
    try:
        yield transport
    finally:
        await transport.aclose()
        if reserved is not None:
            os.dup2(reserved, 1)
            os.close(reserved)
            sys.stdout = saved


class _Options(msgspec.Struct, frozen=True):
    max_frame: int
    stderr_tail_lines: int
    on_stderr: Callable[[str], None] | None
    on_junk: Callable[[bytes], None] | None
    shutdown_timeout: float


def _notify(callback: Callable[[_A], None] | None, arg: _A) -> None:
    """Call a user callback; its failure is logged, never allowed to break the transport."""
    if callback is not None:
        try:
            callback(arg)
        except Exception:
            logger.exception("%r failed", callback)


def _exit_text(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


class StdioClientTransport(_Interruptible):
    """The client end of stdio: a spawned server process. Made by `stdio_client`.

    Besides the `Transport` methods it offers what the client layer needs to explain a
    failure: `returncode`, `stderr_tail()`, `junk_lines`/`junk_count` and `pid`.
    """

    def __init__(
        self, process: anyio.abc.Process, pipes: _ChildPipes, argv: Sequence[str], opts: _Options
    ) -> None:
        super().__init__()
        self._process = process
        self._pipes = pipes
        self._stdin = PipeWriter(pipes.stdin, combine=False)
        self._stdout = PipeReader(pipes.stdout)
        self._command_line = shlex.join(argv)
        self._opts = opts
        self._framer = LineFramer(opts.max_frame)
        self._pending: deque[FrameItem] = deque()
        self._stdout_eof = False
        self._stderr: deque[str] = deque(maxlen=max(opts.stderr_tail_lines, 0))
        self._stderr_done = anyio.Event()
        self._junk: deque[bytes] = deque(maxlen=_JUNK_KEPT)
        self.junk_count = 0
        self._receive_lock = asyncio.Lock()  # (asyncio: no checkpoint when free)
        self._send_lock = anyio.Lock(fast_acquire=True)
        self._closed = anyio.Event()
        self._broken_message: str | None = None
        self._sink: FrameSink | None = None  # push mode (see `push_to`)
        self._sink_told = False  # the sink heard of our end
        self._ending: asyncio.Task[None] | None = None

    def describe(self) -> str:
        """The command line, shell-quoted."""
        return self._command_line

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        """The exit code once the process has exited (negative: killed by that signal)."""
        return self._process.returncode

    def stderr_tail(self) -> str:
        """The last `stderr_tail_lines` non-blank lines the server wrote to stderr."""
        return "\n".join(self._stderr)

    @property
    def junk_lines(self) -> list[bytes]:
        """The last few non-JSON lines the server wrote to stdout (see `junk_count`)."""
        return list(self._junk)

    async def send(self, frame: bytes) -> None:
        if self._closing or frame.find(b"\n") >= 0:  # (the two checks, asked inline first)
            self._check_open()
            _check_frame(frame)
        try:
            if self._stdin.write((frame, b"\n")):  # whole, in order, never blocking
                await self._stdin.drain()
        except OSError as exc:  # EPIPE: the server is gone or closed its stdin
            self._check_open()
            raise await self._broken("stopped reading its stdin") from exc

    async def receive(self) -> bytes:
        if self._pending and not self._receive_lock.locked() and not self._closing:
            item = self._pending[0]  # a frame already read: no lock, no wait
            if isinstance(item, bytes) and _JSON_START.match(item):
                self._pending.popleft()
                return item
        async with self._receive_lock:
            while True:
                self._check_open()
                if not self._pending:
                    if self._stdout_eof:
                        raise await self._broken("closed its stdout")
                    await self._fill()
                    continue
                item = self._pending.popleft()
                if isinstance(item, FrameTooLarge):
                    raise item
                if _JSON_START.match(item):
                    return item
                self._report_junk(item)

    def push_to(self, sink: FrameSink) -> bool:
        """Hand frames to `sink` from the pipe's callback from now on (`PushTransport`)."""
        if self._receive_lock.locked() or self._closing:
            return False
        self._sink = sink
        pending, self._pending = list(self._pending), deque()
        # (a sink that is behind says so again at the next chunk)
        _push_items(sink, pending, self._report_junk)
        if self._stdout_eof:
            self._end()
        else:
            self._stdout.push(self._on_chunk)
        return True

    def resume_push(self) -> None:
        self._stdout.resume()

    def _on_chunk(self, chunk: bytes) -> bool:
        assert self._sink is not None
        if chunk:
            return _push_items(self._sink, self._framer.feed(chunk), self._report_junk)
        self._stdout_eof = True
        _push_items(self._sink, self._framer.end(), self._report_junk)
        self._end()
        return False

    def _end(self) -> None:
        """Stdout ended: tell the sink why, once the exit code and stderr are in."""

        async def explain() -> None:
            error = await self._broken("closed its stdout")
            self._tell_sink(error)

        if self._ending is None and not self._closing:
            self._ending = asyncio.get_running_loop().create_task(explain())

    def _tell_sink(self, error: TransportError) -> None:
        if self._sink is not None and not self._sink_told:
            self._sink_told = True
            self._sink.failed(error)

    async def aclose(self) -> None:
        """Stop the server (see the module docstring) and reap it. Idempotent, never raises
        for a dead process, and completes even when the calling task is being cancelled."""
        if self._closed.is_set():
            return
        if self._closing:
            await self._closed.wait()
            return
        self._interrupt()
        self._tell_sink(ClosedError(f"stdio transport ({self.describe()}) is closed"))
        if self._ending is not None:
            self._ending.cancel()
        self._stdout.close()  # wakes a waiting read (stdout itself stays open until reaped)
        with anyio.CancelScope(shield=True):
            try:
                await self._terminate()
            finally:
                self._closed.set()

    async def _fill(self) -> None:
        """Read one chunk of stdout into `_pending`; `aclose()` may end the wait."""
        try:  # no cancel scope needed: `aclose()` closes the reader, which wakes this
            chunk = await self._stdout.read()
        except OSError:
            chunk = b""
        self._check_open()
        if chunk:
            self._pending.extend(self._framer.feed(chunk))
        else:
            self._stdout_eof = True
            self._pending.extend(self._framer.end())

    def _report_junk(self, line: bytes) -> None:
        self.junk_count += 1
        self._junk.append(line)
        _notify(self._opts.on_junk, line)

    async def _broken(self, what: str) -> BrokenError:
        """A `BrokenError` naming the command, its exit code and its stderr tail.

        Waits briefly for the exit code and the last stderr lines: stdout usually closes a
        moment before the process is reaped and before stderr is fully read.
        """
        if self._broken_message is None:
            with anyio.move_on_after(_EXIT_GRACE):
                await self._process.wait()
                await self._stderr_done.wait()
            message = f"MCP server `{self._command_line}` {what} ({_exit_text(self.returncode)})"
            tail = self.stderr_tail()
            message += f"; stderr tail:\n{tail}" if tail else "; it wrote nothing to stderr"
            self._broken_message = message
        return BrokenError(self._broken_message)

    async def _pump_stderr(self) -> None:
        """Background task: keep the last stderr lines, hand each to `on_stderr`.

        Draining stderr also keeps a chatty server from blocking on a full pipe. Never
        raises: a failure here must not become an ExceptionGroup in the caller.
        """
        framer = LineFramer(_STDERR_LINE_MAX)
        stream = self._process.stderr
        try:
            while stream is not None:
                try:
                    chunk = await stream.receive(_CHUNK)
                except _ENDED:
                    break
                self._take_stderr(framer.feed(chunk))
            self._take_stderr(framer.end())
        except Exception:
            logger.exception("reading the stderr of %s failed", self._command_line)
        finally:
            self._stderr_done.set()

    def _take_stderr(self, items: list[FrameItem]) -> None:
        for item in items:
            if isinstance(item, FrameTooLarge):
                line = f"[a stderr line of {item.size} bytes was left out]"
            else:
                line = item.decode("utf-8", errors="replace")
            self._stderr.append(line)
            _notify(self._opts.on_stderr, line)

    async def _terminate(self) -> None:
        """Close stdin, then escalate SIGTERM -> SIGKILL on the process group; reap.

        The group is signalled only if the server was running when we started: once an
        exited server is reaped its pid (= group id) may be reused by an unrelated group.
        """
        was_running = self.returncode is None
        self._stdin.close()
        self._pipes.close_stdin()  # the server sees end of input
        if was_running:
            if not await self._wait_exit(self._opts.shutdown_timeout):
                self._signal_group(signal.SIGTERM)
                await self._wait_exit(self._opts.shutdown_timeout)
            # Also takes children the server left behind in its group.
            self._signal_group(getattr(signal, "SIGKILL", signal.SIGTERM))
        await self._process.wait()
        self._stdout.close()  # only now: a server writing as it exits must not get EPIPE
        self._pipes.close()
        with anyio.move_on_after(_STDERR_DRAIN):
            await self._stderr_done.wait()
        await self._process.aclose()

    async def _wait_exit(self, seconds: float) -> bool:
        with anyio.move_on_after(seconds):
            await self._process.wait()
            return True
        return False

    def _signal_group(self, sig: signal.Signals) -> None:
        killpg = getattr(os, "killpg", None)
        try:
            if killpg is not None:
                killpg(self._process.pid, sig)
            else:  # pragma: no cover - Windows: no process groups to signal
                self._process.send_signal(sig)
        except (ProcessLookupError, PermissionError):
            pass  # already gone (PermissionError: macOS, for a group of zombies)


class _ChildPipes:
    """Our ends of the server's stdin and stdout pipes. We make the pipes ourselves (rather
    than asking for `PIPE`) so that the loop can drive them directly (`pipes.py`); stderr is
    left to anyio, it is only drained."""

    def __init__(self) -> None:
        self.child_stdin, self.stdin = os.pipe()  # non-inheritable: only the child's ends
        self.stdout, self.child_stdout = os.pipe()  # are passed on, as fds 0 and 1

    def spawned(self) -> None:
        """The child has its ends now; ours of them must go (else no end of input)."""
        for fd in (self.child_stdin, self.child_stdout):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.child_stdin = self.child_stdout = -1  # a closed fd's number may be reused

    def close_stdin(self) -> None:
        if self.stdin >= 0:
            with contextlib.suppress(OSError):
                os.close(self.stdin)
            self.stdin = -1

    def close(self) -> None:
        self.spawned()
        self.close_stdin()
        if self.stdout >= 0:
            with contextlib.suppress(OSError):
                os.close(self.stdout)
            self.stdout = -1


async def _spawn(
    argv: Sequence[str], env: Mapping[str, str] | None, cwd: str | os.PathLike[str] | None
) -> tuple[anyio.abc.Process, _ChildPipes]:
    """Start the server in its own session and process group, so it can be stopped whole
    and does not receive the terminal's Ctrl-C meant for us."""
    pipes = _ChildPipes()
    try:
        process = await anyio.open_process(
            list(argv),
            stdin=pipes.child_stdin,
            stdout=pipes.child_stdout,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=None if env is None else {**os.environ, **env},
            start_new_session=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        pipes.close()
        where = f" in {os.fspath(cwd)!r}" if cwd is not None else ""
        raise ConnectError(
            f"could not start MCP server `{shlex.join(argv)}`{where}: {exc}"
        ) from exc
    pipes.spawned()
    return process, pipes


@contextlib.asynccontextmanager
async def stdio_client(
    command: str,
    args: Sequence[str] = (),
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    max_frame: int = DEFAULT_MAX_FRAME,
    stderr_tail_lines: int = 50,
    on_stderr: Callable[[str], None] | None = None,
    on_junk: Callable[[bytes], None] | None = None,
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
) -> AsyncIterator[StdioClientTransport]:
    """Spawn `command args...` and talk to it over its stdin/stdout.

    `env` is merged over `os.environ` (so PATH and friends survive); `None` inherits it
    unchanged. A start failure (missing executable, bad cwd) raises `ConnectError`. The
    server is stopped and reaped when the block exits. Exceptions from the block propagate
    as they are, never wrapped in an ExceptionGroup.
    """
    argv = [command, *args]
    process, pipes = await _spawn(argv, env, cwd)
    opts = _Options(max_frame, stderr_tail_lines, on_stderr, on_junk, shutdown_timeout)
    transport = StdioClientTransport(process, pipes, argv, opts)
    failure: BaseException | None = None
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(transport._pump_stderr)
            try:
                yield transport
            except BaseException as exc:  # re-raised below, outside the task group
                failure = exc
            finally:
                await transport.aclose()
                tg.cancel_scope.cancel()
    finally:
        await transport.aclose()
    if failure is not None:
        raise failure
