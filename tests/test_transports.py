"""Tests for the memory and stdio transports, against real subprocesses for stdio.

Every wait is bounded with `anyio.fail_after`; readiness is signalled by events or by the
peer's output, never guessed with sleeps.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import signal
import sys
from pathlib import Path

import anyio
import pytest

from mcpkit.protocol.errors import (
    BrokenError,
    ClosedError,
    ConnectError,
    FrameTooLarge,
    LocalProtocolError,
)
from mcpkit.transports.base import Transport
from mcpkit.transports.memory import memory_pair
from mcpkit.transports.stdio import StdioServerTransport, stdio_client, stdio_server

pytestmark = pytest.mark.anyio

FIXTURES = Path(__file__).parent / "fixtures"
SRC = Path(__file__).parent.parent / "src"
PY = sys.executable


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def fixture(name: str) -> str:
    return str(FIXTURES / name)


async def wait_process_gone(pid: int) -> None:
    """Wait (bounded) until `pid` has exited; a pidfd becomes readable when it does."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        with anyio.fail_after(5):
            await anyio.wait_readable(pidfd)
    finally:
        os.close(pidfd)


# -- memory -----------------------------------------------------------------------------------


async def test_memory_pair_both_ways() -> None:
    a, b = memory_pair()
    assert isinstance(a, Transport)
    assert a.describe() == b.describe() == "memory"
    with anyio.fail_after(5):
        await a.send(b'{"n":1}')
        await a.send(b'{"n":2}')
        await b.send(b'{"m":1}')
        assert await b.receive() == b'{"n":1}'
        assert await b.receive() == b'{"n":2}'
        assert await a.receive() == b'{"m":1}'
    await a.aclose()
    await b.aclose()


async def test_memory_close_semantics() -> None:
    a, b = memory_pair()
    with anyio.fail_after(5):
        await a.send(b"1")
        await a.send(b"2")
        await a.aclose()
        await a.aclose()  # idempotent
        assert await b.receive() == b"1"  # drained first ...
        assert await b.receive() == b"2"
        with pytest.raises(BrokenError, match="peer closed"):  # ... then broken
            await b.receive()
        with pytest.raises(BrokenError, match="peer closed"):
            await b.send(b"3")
        with pytest.raises(ClosedError):
            await a.send(b"4")
        with pytest.raises(ClosedError):
            await a.receive()
    await b.aclose()


async def test_memory_aclose_wakes_own_receiver() -> None:
    a, b = memory_pair()
    errors: list[BaseException] = []

    async def receiver() -> None:
        try:
            await a.receive()
        except ClosedError as exc:
            errors.append(exc)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(receiver)
            await anyio.wait_all_tasks_blocked()
            await a.aclose()
    assert len(errors) == 1
    await b.aclose()


async def test_memory_buffer_lets_a_burst_through() -> None:
    a, b = memory_pair(max_buffer=1024)
    with anyio.fail_after(5):
        for i in range(1024):
            await a.send(b"%d" % i)
        assert [await b.receive() for _ in range(1024)][-1] == b"1023"
    await a.aclose()
    await b.aclose()


# -- stdio client -----------------------------------------------------------------------------


async def test_client_echo_roundtrip_and_describe() -> None:
    async with stdio_client(PY, [fixture("proc_echo.py")], shutdown_timeout=5) as t:
        assert t.describe() == shlex.join([PY, fixture("proc_echo.py")])
        with anyio.fail_after(10):
            await t.send(b'{"jsonrpc":"2.0","id":1,"method":"ping"}')
            await t.send(b"[1,2]")
            assert await t.receive() == b'{"jsonrpc":"2.0","id":1,"method":"ping"}'
            assert await t.receive() == b"[1,2]"
        with pytest.raises(LocalProtocolError):
            await t.send(b"{}\n{}")
        assert t.returncode is None
        started = anyio.current_time()
        await t.aclose()
        assert anyio.current_time() - started < 4  # it exited on stdin EOF, no escalation
        assert t.returncode == 0
        with pytest.raises(ClosedError):
            await t.send(b"{}")
        with pytest.raises(ClosedError):
            await t.receive()


async def test_client_env_and_cwd(tmp_path: Path) -> None:
    async with stdio_client(
        PY, [fixture("proc_echo.py")], env={"MCPKIT_TEST_VAR": "v-42"}, cwd=tmp_path
    ) as t:
        with anyio.fail_after(10):
            await t.send(b'{"info": true}')
            info = json.loads(await t.receive())
    assert await anyio.Path(info["cwd"]).resolve() == await anyio.Path(tmp_path).resolve()
    assert info["var"] == "v-42"
    assert info["path"] == os.environ["PATH"]  # merged over os.environ, not replacing it


async def test_client_reports_junk_and_stderr() -> None:
    junk: list[bytes] = []
    stderr: list[str] = []
    saw_stderr = anyio.Event()

    def on_stderr(line: str) -> None:
        stderr.append(line)
        if line == "log line 2":
            saw_stderr.set()

    async with stdio_client(
        PY, [fixture("proc_junk.py")], on_junk=junk.append, on_stderr=on_stderr
    ) as t:
        with anyio.fail_after(10):
            assert await t.receive() == b'{"ready": true}'
            assert await t.receive() == b"  [1, 2]"
            await saw_stderr.wait()
    assert junk == [b"Starting demo server v1.0", b"  WARN: no config found"]
    assert t.junk_lines == junk
    assert t.junk_count == 2
    assert stderr == ["log line 1", "log line 2"]
    assert t.stderr_tail() == "log line 1\nlog line 2"


async def test_client_broken_error_names_command_exit_code_and_stderr() -> None:
    async with stdio_client(PY, [fixture("proc_crash.py")]) as t:
        with anyio.fail_after(10), pytest.raises(BrokenError) as info:
            await t.receive()
        message = str(info.value)
        assert "proc_crash.py" in message
        assert "exit code 3" in message
        assert "fatal: config file missing" in message
        assert t.returncode == 3
        assert "fatal: config file missing" in t.stderr_tail()
        with anyio.fail_after(10), pytest.raises(BrokenError, match="exit code 3") as sent:
            await t.send(b"{}")
        assert sent.value.__cause__ is not None
        with anyio.fail_after(10), pytest.raises(BrokenError):  # stays broken
            await t.receive()


async def test_client_stderr_tail_is_bounded() -> None:
    script = "import sys\nfor i in range(100): print('line', i, file=sys.stderr)\n"
    async with stdio_client(PY, ["-c", script], stderr_tail_lines=3) as t:
        with anyio.fail_after(10), pytest.raises(BrokenError) as info:
            await t.receive()
    assert t.stderr_tail() == "line 97\nline 98\nline 99"
    assert "line 96" not in str(info.value)
    assert "exit code 0" in str(info.value)


async def test_client_oversize_frame_then_carries_on() -> None:
    async with stdio_client(PY, [fixture("proc_echo.py")], max_frame=100) as t:
        with anyio.fail_after(10):
            await t.send(b'{"big": "' + b"x" * 200 + b'"}')
            await t.send(b'{"small": 1}')
            with pytest.raises(FrameTooLarge):
                await t.receive()
            assert await t.receive() == b'{"small": 1}'


async def test_client_escalates_to_sigkill_and_kills_the_group() -> None:
    async with stdio_client(PY, [fixture("proc_group.py"), "stubborn"], shutdown_timeout=0.2) as t:
        with anyio.fail_after(10):
            child = json.loads(await t.receive())["child"]
        started = anyio.current_time()
        await t.aclose()
        elapsed = anyio.current_time() - started
        assert 0.35 <= elapsed < 5  # waited after stdin close and after SIGTERM, then killed
        assert t.returncode == -signal.SIGKILL
        await wait_process_gone(child)


async def test_client_kills_children_left_by_an_exited_server() -> None:
    async with stdio_client(PY, [fixture("proc_group.py"), "polite"], shutdown_timeout=5) as t:
        with anyio.fail_after(10):
            child = json.loads(await t.receive())["child"]
        started = anyio.current_time()
        await t.aclose()
        assert anyio.current_time() - started < 4
        assert t.returncode == 0
        await wait_process_gone(child)


async def test_client_silent_server_gets_sigterm() -> None:
    async with stdio_client(PY, [fixture("proc_silent.py")], shutdown_timeout=0.2) as t:
        with pytest.raises(TimeoutError), anyio.fail_after(0.3):
            await t.receive()  # it never answers; the client layer times out like this
        await t.aclose()
        assert t.returncode == -signal.SIGTERM
        assert t.stderr_tail() == "silent server waiting"


async def test_client_aclose_completes_while_cancelled() -> None:
    async with stdio_client(PY, [fixture("proc_silent.py")], shutdown_timeout=0.1) as t:
        with anyio.fail_after(10):
            with anyio.CancelScope() as scope:
                scope.cancel()
                await t.aclose()
            assert t.returncode == -signal.SIGTERM


async def test_client_aclose_wakes_a_waiting_receive() -> None:
    errors: list[BaseException] = []
    async with stdio_client(PY, [fixture("proc_silent.py")], shutdown_timeout=0.1) as t:

        async def receiver() -> None:
            try:
                await t.receive()
            except ClosedError as exc:
                errors.append(exc)

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(receiver)
                await anyio.wait_all_tasks_blocked()
                await t.aclose()
    assert len(errors) == 1


async def test_client_body_exception_is_not_wrapped() -> None:
    with pytest.raises(KeyError, match="boom"):
        async with stdio_client(PY, [fixture("proc_echo.py")]):
            raise KeyError("boom")


async def test_client_missing_command_is_connect_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-server")
    with pytest.raises(ConnectError, match="no-such-server"):
        async with stdio_client(missing, ["--flag"]):
            pytest.fail("must not start")
    with pytest.raises(ConnectError, match="nowhere"):
        async with stdio_client(PY, [fixture("proc_echo.py")], cwd=tmp_path / "nowhere"):
            pytest.fail("must not start")


# -- stdio server, in a real subprocess -------------------------------------------------------


def server_env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": str(SRC) + (os.pathsep + path if path else "")}


async def test_server_subprocess_echo_print_oversize_and_eof() -> None:
    stdin = (
        b'{"a":1}\n'
        b"not json at all\n"
        b'{"big":"' + b"x" * 5000 + b'"}\n'
        b"\r\n"
        b'{"b":2}\r\n'
        b'{"c":3}'  # unterminated last line still counts
    )
    with anyio.fail_after(30):
        done = await anyio.run_process(
            [PY, fixture("stdio_echo_server.py"), "1024"],
            input=stdin,
            env={**os.environ, **server_env()},
        )
    assert done.stdout.decode().splitlines() == [
        '{"a":1}',
        "not json at all",
        '{"error": "too large", "size": 5010}',
        '{"b":2}',
        '{"c":3}',
        "stdout restored",
    ]
    stderr = done.stderr.decode()
    assert "server started" in stderr
    assert "raw write to fd 1" in stderr
    assert "child output" in stderr
    assert "got 7 bytes" in stderr


async def test_server_subprocess_through_the_client() -> None:
    async with stdio_client(PY, [fixture("stdio_echo_server.py")], env=server_env()) as t:
        with anyio.fail_after(30):
            for i in range(20):
                await t.send(b'{"i": %d}' % i)
            assert [await t.receive() for _ in range(20)][-1] == b'{"i": 19}'
        await t.aclose()
    assert t.returncode == 0
    assert "server started" in t.stderr_tail()
    assert t.junk_count == 0


# -- stdio server, in process with injected streams -------------------------------------------


async def read_lines(fd: int, count: int) -> list[bytes]:
    data = b""
    while data.count(b"\n") < count:
        await anyio.wait_readable(fd)
        data += os.read(fd, 65536)
    return data.splitlines()


async def test_server_over_pipes() -> None:
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    try:
        async with stdio_server(stdin=in_r, stdout=out_w, max_frame=16) as t:
            assert isinstance(t, StdioServerTransport)
            assert isinstance(t, Transport)
            with anyio.fail_after(10):
                os.write(in_w, b'{"x":1}\n{"much too long":1}\n{"y"')
                assert await t.receive() == b'{"x":1}'
                with pytest.raises(FrameTooLarge):
                    await t.receive()
                os.write(in_w, b":2}\n")
                assert await t.receive() == b'{"y":2}'
                await t.send(b'{"r":1}')
                await t.send(b"[]")
                assert await read_lines(out_r, 2) == [b'{"r":1}', b"[]"]
                os.close(in_w)
                in_w = -1
                with pytest.raises(BrokenError, match="stdin closed"):
                    await t.receive()
        with pytest.raises(ClosedError):
            await t.receive()
    finally:
        for fd in (in_r, in_w, out_r, out_w):
            if fd >= 0:
                os.close(fd)


async def test_server_concurrent_sends_do_not_interleave() -> None:
    out_r, out_w = os.pipe()
    frames = [b'{"n":%d,"pad":"%s"}' % (i, b"z" * 100_000) for i in range(20)]
    received: list[bytes] = []

    async def drain() -> None:
        received.extend(await read_lines(out_r, len(frames)))

    try:
        async with stdio_server(stdin=io.BytesIO(b""), stdout=out_w) as t:
            with anyio.fail_after(30):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(drain)
                    for frame in frames:
                        tg.start_soon(t.send, frame)
    finally:
        os.close(out_r)
        os.close(out_w)
    assert sorted(received) == sorted(frames)


async def test_server_from_regular_file_and_file_objects(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'{"a":1}\n\n{"b":2}\n')
    out = io.BytesIO()
    with source.open("rb") as stdin:
        async with stdio_server(stdin=stdin, stdout=out) as t:
            with anyio.fail_after(10):
                assert await t.receive() == b'{"a":1}'
                assert await t.receive() == b'{"b":2}'
                with pytest.raises(BrokenError):
                    await t.receive()
                await t.send(b"{}")
    assert out.getvalue() == b"{}\n"


async def test_server_from_a_tty() -> None:
    master, slave = os.openpty()
    out = io.BytesIO()
    try:
        async with stdio_server(stdin=slave, stdout=out) as t:
            with anyio.fail_after(10):
                os.write(master, b'{"tty":true}\n')
                assert await t.receive() == b'{"tty":true}'
    finally:
        os.close(master)
        os.close(slave)


async def test_server_aclose_wakes_a_waiting_receive() -> None:
    in_r, in_w = os.pipe()
    errors: list[BaseException] = []
    try:
        async with stdio_server(stdin=in_r, stdout=io.BytesIO()) as t:

            async def receiver() -> None:
                try:
                    await t.receive()
                except ClosedError as exc:
                    errors.append(exc)

            with anyio.fail_after(10):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(receiver)
                    await anyio.wait_all_tasks_blocked()
                    await t.aclose()
    finally:
        os.close(in_r)
        os.close(in_w)
    assert len(errors) == 1
