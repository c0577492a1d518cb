"""stdio: a server process spoken to in newline-delimited JSON-RPC over its pipes.

Reading is callback-driven (an `asyncio.SubprocessProtocol`): each chunk from the server's
stdout is split into lines, each line decoded and handed to the callback waiting for its id,
which may write the next request at once. Requests the server sends us (ping, roots...) get
an empty result so that the server never waits on the driver.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import IO, Any, cast

import msgspec

from driver import wire
from driver.procs import group_cpu_s, group_rss_kb, stop
from driver.stats import Tally, now_ns, resolver

Callback = Callable[[Any], None]


class ServerGone(Exception):
    pass


class StdioServer(asyncio.SubprocessProtocol):
    """A running stdio server: `await StdioServer.start(argv, log)`, then requests."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.pending: dict[int, Callback] = {}
        self.transport: asyncio.SubprocessTransport | None = None
        self.spawned_ns = 0
        self.next_id = 1
        self.gone = False
        self.junk_lines = 0
        self._exited = asyncio.Event()

    @classmethod
    async def start(
        cls, argv: list[str], log: IO[bytes], env: dict[str, str] | None = None
    ) -> StdioServer:
        loop = asyncio.get_running_loop()
        spawned = now_ns()
        transport, server = await loop.subprocess_exec(
            cls,
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
            env=env,
            start_new_session=True,
        )
        server.transport = transport
        server.spawned_ns = spawned
        return server

    # ---- the process (procs.Child) ---------------------------------------------------

    @property
    def pid(self) -> int:
        assert self.transport is not None
        return self.transport.get_pid()

    @property
    def returncode(self) -> int | None:
        assert self.transport is not None
        return self.transport.get_returncode()

    async def wait(self) -> int:
        await self._exited.wait()
        return self.returncode or 0

    async def aclose(self, grace: float = 2.0) -> None:
        """Close stdin (a stdio server's cue to exit), then SIGTERM/SIGKILL if need be."""
        assert self.transport is not None
        stdin = self.transport.get_pipe_transport(0)
        if stdin is not None:
            stdin.close()
        await stop(self, grace, exiting=True)
        self.transport.close()

    def rss_kb(self) -> int:
        return group_rss_kb(self.pid)

    # ---- asyncio callbacks -----------------------------------------------------------

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        if fd != 1 or isinstance(data, str):
            return
        buffer = self.buffer
        scan = len(buffer)
        buffer += data
        start = 0
        newline = buffer.find(b"\n", scan)
        while newline >= 0:
            if newline > start:
                self._on_line(buffer[start:newline])
            start = newline + 1
            newline = buffer.find(b"\n", start)
        if start:
            del buffer[:start]

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd == 1:
            self._on_gone()

    def process_exited(self) -> None:
        self._exited.set()
        self._on_gone()

    def _on_line(self, line: bytearray) -> None:
        try:
            message = wire.decode(line)
        except msgspec.DecodeError:
            self.junk_lines += 1
            return
        if not isinstance(message, dict):
            self.junk_lines += 1
            return
        mid = message.get("id")
        if "method" in message:
            if mid is not None:  # the server asks us something: answer at once
                self.write(wire.encode({"jsonrpc": "2.0", "id": mid, "result": {}}) + b"\n")
            return
        callback = self.pending.pop(mid, None) if isinstance(mid, int) else None
        if callback is not None:
            callback(message)

    def _on_gone(self) -> None:
        if self.gone:
            return
        self.gone = True
        waiting, self.pending = list(self.pending.values()), {}
        for callback in waiting:
            callback(None)

    # ---- requests --------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        assert self.transport is not None
        # (uvloop's pipe transports do not subclass asyncio's, but behave as them)
        stdin = cast(asyncio.WriteTransport, self.transport.get_pipe_transport(0))
        stdin.write(data)

    def take_ids(self, count: int) -> int:
        first, self.next_id = self.next_id, self.next_id + count
        return first

    async def request(self, message: dict[str, Any], timeout: float = 60) -> Any:
        """Send a request (its id is assigned here) and return the answer message.

        Raises:
            ServerGone: the server exited or closed its stdout first.
        """
        if self.gone:
            raise ServerGone("the server has exited")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        mid = message["id"] = self.take_ids(1)
        self.pending[mid] = resolver(future)
        self.write(wire.encode(message) + b"\n")
        answer = await asyncio.wait_for(future, timeout)
        if answer is None:
            raise ServerGone("the server closed its stdout")
        return answer

    async def handshake(self, era: wire.Era, timeout: float = 60) -> None:
        """Legacy: initialize + notifications/initialized. Modern: no handshake at all."""
        if era is wire.Era.LEGACY:
            answer = await self.request(wire.initialize(0), timeout)
            if "result" not in answer:
                raise RuntimeError(f"initialize failed: {answer}")
            self.write(wire.encode(wire.INITIALIZED) + b"\n")

    async def discover(self, timeout: float = 60) -> None:
        discover = wire.request(0, "server/discover", {}, wire.Era.MODERN)
        answer = await self.request(discover, timeout)
        if "result" not in answer:
            raise RuntimeError(f"server/discover failed: {answer}")

    async def check_tools(self, era: wire.Era) -> None:
        answer = await self.request(wire.request(0, "tools/list", {}, era))
        if not {"echo", "add"} <= wire.tool_names(answer):
            raise RuntimeError(f"the server lacks echo/add: {answer}")

    async def load(
        self, workload: wire.Workload, n: int, window: int, max_s: float
    ) -> dict[str, Any]:
        """`n` tools/call with `window` in flight; every answer checked."""
        if self.gone:
            raise ServerGone("the server has exited")
        tally = Tally(n, max_s)
        base = self.take_ids(n)
        sent_at = [0] * n
        line, check, write, pending = workload.line, workload.check, self.write, self.pending

        def on_answer(message: Any) -> None:
            if message is None:
                tally.lost(1)
                return
            index = message["id"] - base
            following = tally.answered(sent_at[index], check(message))
            if following is not None:
                send(following)

        def send(index: int) -> None:
            mid = base + index
            pending[mid] = on_answer
            sent_at[index] = now_ns()
            write(line(mid))

        cpu0, mine0 = group_cpu_s(self.pid), time.process_time()
        await tally.run(send, window)
        cpu1, mine1 = group_cpu_s(self.pid), time.process_time()
        for index in range(tally.sent):  # forget calls that were never answered
            pending.pop(base + index, None)
        result = tally.summary()
        calls = max(result["calls"], 1)
        result["server_cpu_us_per_call"] = round((cpu1 - cpu0) * 1e6 / calls, 1)
        result["driver_cpu_us_per_call"] = round((mine1 - mine0) * 1e6 / calls, 1)
        return result
