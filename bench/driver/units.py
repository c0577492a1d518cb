"""Measurement units: each starts a fresh server (or client program), measures, stops it.

A unit is one (suite, scenario, target, rep). The server is started in its own process
group, initialized (legacy: `initialize` 2025-11-25; modern: nothing), its tools listed,
warmed up (`warmup` echo calls and a quarter as many `add`), measured, and stopped
(stdin closed or SIGTERM, then SIGKILL). Its stderr goes to a log file per target.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from driver import wire
from driver.http import Connection, Endpoint
from driver.procs import free_port, group_rss_kb, spawn, stop, wait_listening
from driver.stdio import StdioServer

BENCH = Path(__file__).resolve().parents[1]
OFFICIAL = "official-sdk"


@dataclass(frozen=True)
class Settings:
    """What every unit shares: the servers' interpreter, warm-up calls, bounds."""

    python: str
    warmup: int = 200
    max_s: float = 60.0
    sessions: int = 1000
    env: dict[str, str] | None = None
    # prepended to every target's command line (e.g. valgrind: `bench/instructions.py`)
    wrapper: tuple[str, ...] = ()


@dataclass(frozen=True)
class Target:
    """A server or a client program under test, in one era."""

    name: str
    script: Path
    era: wire.Era = wire.Era.LEGACY
    flags: tuple[str, ...] = ()

    @property
    def baseline(self) -> str:
        """The official SDK's row in the same era: what this row's ratio is against."""
        return OFFICIAL + ("/modern" if self.era is wire.Era.MODERN else "")

    def argv(self, settings: Settings, *extra: str) -> list[str]:
        return [*settings.wrapper, settings.python, str(self.script), *extra, *self.flags]


def servers(*, sync: bool = False) -> tuple[Target, ...]:
    """mcpkit's bench server and the official SDK's, each in both eras."""
    flags = ("--sync",) if sync else ()
    ours, theirs = BENCH / "server.py", BENCH / "peers" / "official_server.py"
    return (
        Target("mcpkit", ours, flags=flags),
        Target("mcpkit/modern", ours, wire.Era.MODERN, flags),
        Target(OFFICIAL, theirs, flags=flags),
        Target(OFFICIAL + "/modern", theirs, wire.Era.MODERN, flags),
    )


CLIENTS = (
    Target("mcpkit", BENCH / "client.py"),
    Target("mcpkit/modern", BENCH / "client.py", wire.Era.MODERN),
    Target(OFFICIAL, BENCH / "peers" / "official_client.py"),
    Target(OFFICIAL + "/modern", BENCH / "peers" / "official_client.py", wire.Era.MODERN),
)
RAW_SERVER = BENCH / "peers" / "raw_server.py"


@dataclass(frozen=True)
class Scenario:
    name: str
    tool: str = "echo"
    nbytes: int = 10
    n: int = 1000
    window: int = 1
    mode: str = ""  # HTTP: "json" or "sse"

    def workload(self, era: wire.Era) -> wire.Workload:
        return wire.Workload(self.tool, self.nbytes, era)


@dataclass
class Logs:
    """One stderr log per target, opened for the run."""

    folder: Path
    files: dict[str, IO[bytes]] = field(default_factory=dict)

    def __call__(self, name: str) -> IO[bytes]:
        if name not in self.files:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.files[name] = (self.folder / (name.replace("/", "-") + ".log")).open("ab")
        return self.files[name]

    def close(self) -> None:
        for log in self.files.values():
            log.close()


# ---- stdio ---------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def stdio_server(
    argv: list[str], log: IO[bytes], settings: Settings, *, grace: float = 2.0
) -> AsyncIterator[StdioServer]:
    """A started server, stopped on the way out (`grace` seconds to exit after its stdin
    closes)."""
    server = await StdioServer.start(argv, log, settings.env)
    try:
        yield server
    finally:
        await server.aclose(grace)


async def warm_up(load: Any, era: wire.Era, settings: Settings) -> None:
    if settings.warmup:
        await load(wire.Workload("echo", 10, era), settings.warmup)
        await load(wire.Workload("add", 10, era), max(1, settings.warmup // 4))


async def stdio_unit(
    target: Target, scenario: Scenario, settings: Settings, logs: Logs
) -> dict[str, Any]:
    async with stdio_server(target.argv(settings), logs(target.name), settings) as server:
        await server.handshake(target.era)
        await server.check_tools(target.era)

        async def load(workload: wire.Workload, n: int) -> dict[str, Any]:
            return await server.load(workload, n, 1, settings.max_s)

        await warm_up(load, target.era, settings)
        result = await server.load(
            scenario.workload(target.era), scenario.n, scenario.window, settings.max_s
        )
        result["rss_kb"] = server.rss_kb()
        return result


async def cold_unit(target: Target, settings: Settings, logs: Logs) -> dict[str, Any]:
    """Spawn → the first answer (legacy: `initialize`; modern: `server/discover`), then the
    idle RSS after tools/list and one call."""
    async with stdio_server(target.argv(settings), logs(target.name), settings) as server:
        if target.era is wire.Era.LEGACY:
            await server.handshake(target.era)
        else:
            await server.discover()
        ready_ms = (time.perf_counter_ns() - server.spawned_ns) / 1e6
        await server.check_tools(target.era)
        await server.load(wire.Workload("echo", 10, target.era), 1, 1, settings.max_s)
        await asyncio.sleep(0.3)
        return {"start_to_ready_ms": round(ready_ms, 1), "idle_rss_kb": server.rss_kb()}


# ---- HTTP ----------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def http_server(
    argv: list[str], log: IO[bytes], settings: Settings
) -> AsyncIterator[tuple[str, int]]:
    """Start an HTTP server on a free port; yields (URL, pid)."""
    port = free_port()
    process = await spawn([*argv, "--http", "--port", str(port)], log, settings.env)
    try:
        await wait_listening(port, process, 60)
        yield f"http://127.0.0.1:{port}/mcp", process.pid
    finally:
        await stop(process)


async def http_unit(
    target: Target, scenario: Scenario, settings: Settings, logs: Logs
) -> dict[str, Any]:
    argv = target.argv(settings, f"--{scenario.mode}")
    async with http_server(argv, logs(target.name), settings) as (url, pid):
        endpoint = Endpoint(url, target.era)
        pool = [await endpoint.connect()]
        try:
            if target.era is wire.Era.LEGACY:
                endpoint.session = await endpoint.open_session(pool[0])
            answer = await endpoint.call(pool[0], "tools/list", {})
            if not {"echo", "add"} <= wire.tool_names(answer):
                raise RuntimeError(f"the server lacks echo/add: {answer}")

            async def load(workload: wire.Workload, n: int) -> dict[str, Any]:
                return await endpoint.load(workload, n, pool[:1], settings.max_s)

            await warm_up(load, target.era, settings)
            pool += [await endpoint.connect() for _ in range(scenario.window - 1)]
            result = await endpoint.load(
                scenario.workload(target.era), scenario.n, pool, settings.max_s, pid
            )
            result["rss_kb"] = group_rss_kb(pid)
            if endpoint.session is not None:
                await endpoint.delete_session(pool[0], endpoint.session)
            return result
        finally:
            for connection in pool:
                connection.close()


async def _open_sessions(
    endpoint: Endpoint, pool: list[Connection], count: int
) -> tuple[list[bytes], int]:
    """Open `count` legacy sessions over the pool's connections; (session ids, failures)."""
    sessions: list[bytes] = []
    failures = 0
    todo = iter(range(count))

    async def worker(connection: Connection) -> None:
        nonlocal failures
        for _ in todo:
            try:
                session = await endpoint.open_session(connection)
            except Exception:
                failures += 1
                continue
            if session is None:
                raise RuntimeError("the server made no session (stateless)")
            sessions.append(session)

    await asyncio.gather(*(worker(c) for c in pool))
    return sessions, failures


async def _delete_sessions(
    endpoint: Endpoint, pool: list[Connection], sessions: list[bytes]
) -> int:
    deleted = 0
    todo = iter(sessions)

    async def worker(connection: Connection) -> None:
        nonlocal deleted
        for session in todo:
            status = await endpoint.delete_session(connection, session)
            deleted += status in (200, 202, 204)  # after the await: workers interleave

    await asyncio.gather(*(worker(c) for c in pool))
    return deleted


async def memory_unit(target: Target, settings: Settings, logs: Logs) -> dict[str, Any]:
    """RSS growth of the server for `settings.sessions` initialized idle legacy sessions
    (server in its default response mode), then all of them DELETEd."""
    async with http_server(target.argv(settings), logs(target.name), settings) as (url, pid):
        endpoint = Endpoint(url, wire.Era.LEGACY)
        pool = [await endpoint.connect() for _ in range(8)]
        try:
            warm, _ = await _open_sessions(endpoint, pool, 20)  # code paths and allocator
            await _delete_sessions(endpoint, pool, warm)
            await asyncio.sleep(0.5)
            before = group_rss_kb(pid)
            started = time.perf_counter()
            sessions, failures = await _open_sessions(endpoint, pool, settings.sessions)
            opening = time.perf_counter() - started
            await asyncio.sleep(0.5)
            holding = group_rss_kb(pid)
            deleted = await _delete_sessions(endpoint, pool, sessions)
            await asyncio.sleep(0.5)
            after = group_rss_kb(pid)
        finally:
            for connection in pool:
                connection.close()
    count = max(len(sessions), 1)
    return {
        "sessions": len(sessions),
        "errors": failures + len(sessions) - deleted,
        "kb_per_session": round((holding - before) / count, 2),
        "rss_before_kb": before,
        "rss_with_sessions_kb": holding,
        "rss_after_delete_kb": after,
        "sessions_per_s": round(len(sessions) / opening, 1) if opening else None,
    }


# ---- clients -------------------------------------------------------------------------------


async def client_unit(
    client: Target, transport: str, n: int, settings: Settings, logs: Logs
) -> dict[str, Any]:
    """A client program's sequential echo calls against the raw server (stdio or HTTP)."""
    env = dict(settings.env or {})
    env.update(
        MCP_BENCH_CALLS=str(n),
        MCP_BENCH_WARMUP=str(settings.warmup),
        MCP_BENCH_BYTES="10",
        MCP_BENCH_ERA=client.era.value,
    )
    raw = [settings.python, str(RAW_SERVER)]
    log = logs("client-" + client.name)
    if transport == "stdio":
        env["MCP_BENCH_SERVER"] = json.dumps(raw)
        return await _run_client(client.argv(settings), env, log, settings)
    async with http_server(raw, logs("raw-server"), settings) as (url, _):
        env["MCP_BENCH_URL"] = url
        return await _run_client(client.argv(settings), env, log, settings)


async def _run_client(
    argv: list[str], env: dict[str, str], log: IO[bytes], settings: Settings
) -> dict[str, Any]:
    process = await spawn(argv, log, env, stdout=asyncio.subprocess.PIPE)
    try:
        out, _ = await asyncio.wait_for(process.communicate(), settings.max_s * 2 + 60)
    finally:
        await stop(process, grace=1.0)
    lines = [line for line in out.decode().splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        raise RuntimeError(f"the client exited with {process.returncode}; see {log.name}")
    report = json.loads(lines[-1])
    calls, errors, seconds = report["calls"], report.get("errors", 0), report["seconds"]
    return {
        "calls": calls,
        "errors": errors,
        "wall_s": round(seconds, 4),
        "calls_per_s": round((calls - errors) / seconds, 1),
        "p50_us": round(report["p50_us"], 1),
        "p99_us": round(report["p99_us"], 1),
        "client_cpu_us_per_call": round(report["cpu_s"] * 1e6 / max(calls, 1), 1),
    }
