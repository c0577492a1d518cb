"""mcpkit's client-side benchmark program (the contract of the shared harness's clients).

Environment in:
    MCP_BENCH_SERVER   JSON array: the argv of a stdio server to spawn, or
    MCP_BENCH_URL      a Streamable HTTP endpoint
    MCP_BENCH_CALLS    timed sequential `echo` calls (default 2000)
    MCP_BENCH_WARMUP   untimed calls first (default 200)
    MCP_BENCH_BYTES    size of the echoed text (default 10)
    MCP_BENCH_ERA      legacy (default: the `initialize` handshake) or modern (2026-07-28)
Out: one JSON line {"calls", "errors", "seconds", "p50_us", "p99_us", "cpu_s"}, where cpu_s
is this process's CPU time during the timed loop. Every echoed text is checked.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, Literal

import mcpkit
from mcpkit.client import Client


def text_of(nbytes: int) -> str:
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ "
    return (alphabet * (nbytes // len(alphabet) + 1))[:nbytes]


def is_echo(result: Any, text: str) -> bool:
    content = result.content
    return result.is_error is not True and len(content) == 1 and content[0].text == text


async def measure(client: Client, calls: int, warmup: int, text: str) -> dict[str, Any]:
    for _ in range(warmup):
        await client.call_tool("echo", {"text": text})
    latencies = []
    errors = 0
    cpu0, start = time.process_time(), time.perf_counter()
    for _ in range(calls):
        sent = time.perf_counter_ns()
        result = await client.call_tool("echo", {"text": text})
        latencies.append(time.perf_counter_ns() - sent)
        errors += not is_echo(result, text)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu0
    latencies.sort()
    return {
        "calls": calls,
        "errors": errors,
        "seconds": seconds,
        "p50_us": latencies[len(latencies) // 2] / 1e3,
        "p99_us": latencies[int(0.99 * (len(latencies) - 1))] / 1e3,
        "cpu_s": cpu,
    }


async def main() -> None:
    env = os.environ
    url = env.get("MCP_BENCH_URL")
    target: str | list[str] = url if url else json.loads(env["MCP_BENCH_SERVER"])
    era: Literal["legacy", "modern"] = (
        "modern" if env.get("MCP_BENCH_ERA") == "modern" else "legacy"
    )
    text = text_of(int(env.get("MCP_BENCH_BYTES", "10")))
    calls, warmup = int(env.get("MCP_BENCH_CALLS", "2000")), int(env.get("MCP_BENCH_WARMUP", "200"))
    async with Client(target, era=era) as client:
        report = await measure(client, calls, warmup, text)
    sys.stdout.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    mcpkit.run(main)  # on uvloop when installed, as any mcpkit program
