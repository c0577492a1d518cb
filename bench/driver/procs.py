"""Server processes: start them in their own process group, account for them, stop them.

Every server (or client program) the benchmark starts is the leader of a new session, so its
process group id is its pid and every process it forks stays in that group. CPU time and
memory are summed over the group (read from /proc: `stat` fields utime+stime, `status`
VmRSS); stopping signals the group only, never anything the benchmark did not start. Linux
does not hand out a pid that is still some group's id, so signalling a group whose leader is
gone can reach only that leader's own leftovers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
from pathlib import Path
from typing import IO, Any, Final, Protocol

CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK")


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()  # after "pid (comm) "
        if int(fields[2]) == pgid and fields[0] != b"Z":  # [0] state, [2] pgrp
            members.append(int(entry))
    return members


def _cpu_seconds(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return 0.0
    fields = stat[stat.rfind(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def _rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def group_cpu_s(pgid: int) -> float:
    """User+system CPU seconds of the live processes of a group."""
    return sum(_cpu_seconds(pid) for pid in _group_members(pgid))


def group_rss_kb(pgid: int) -> int:
    """Resident memory of a group, in KiB (shared pages counted once per process)."""
    return sum(_rss_kb(pid) for pid in _group_members(pgid))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def wait_listening(port: int, process: asyncio.subprocess.Process, timeout: float) -> None:
    """Wait until something accepts connections on 127.0.0.1:port.

    Raises:
        RuntimeError: the process exited, or nothing listened within `timeout` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.02)
            continue
        writer.close()
        return
    raise RuntimeError(f"nothing listened on port {port} within {timeout:g}s")


async def spawn(
    argv: list[str], log: IO[bytes], env: dict[str, str] | None = None, **pipes: Any
) -> asyncio.subprocess.Process:
    """Start a command as the leader of a new session; stderr (and stdout unless piped) to log."""
    pipes.setdefault("stdin", asyncio.subprocess.DEVNULL)
    pipes.setdefault("stdout", log)
    return await asyncio.create_subprocess_exec(
        *argv, stderr=log, env=env, start_new_session=True, **pipes
    )


class Child(Protocol):
    """A started process (`asyncio.subprocess.Process` is one)."""

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None: ...

    async def wait(self) -> int: ...


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


async def stop(child: Child, grace: float = 2.0, *, exiting: bool = False) -> None:
    """Stop a process we started and its group: SIGTERM, then SIGKILL, each followed by up to
    `grace` seconds of waiting; stragglers left in the group are killed. `exiting`: the
    process was told to go (a stdio server's closed stdin); give it `grace` seconds first."""
    if exiting:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(child.wait(), grace)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if child.returncode is not None:
            break
        _signal_group(child.pid, sig)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(child.wait(), grace)
    if _group_members(child.pid):
        _signal_group(child.pid, signal.SIGKILL)
