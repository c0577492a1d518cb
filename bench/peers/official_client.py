"""The official Python SDK's client-side benchmark program (PyPI `mcp` 2.x, `mcp.Client`).

The same contract and checks as `bench/client.py`: MCP_BENCH_SERVER or MCP_BENCH_URL,
MCP_BENCH_CALLS, MCP_BENCH_WARMUP, MCP_BENCH_BYTES, MCP_BENCH_ERA (legacy: the `initialize`
handshake, `mode="legacy"`; modern: `mode="2026-07-28"`); one JSON line out.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

MODERN = "2026-07-28"


def text_of(nbytes: int) -> str:
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ "
    return (alphabet * (nbytes // len(alphabet) + 1))[:nbytes]


def is_echo(result: Any, text: str) -> bool:
    content = result.content
    return not result.is_error and len(content) == 1 and content[0].text == text


async def measure(client: Any, calls: int, warmup: int, text: str) -> dict[str, Any]:
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
    target: Any = url
    if not url:
        argv = json.loads(env["MCP_BENCH_SERVER"])
        target = StdioServerParameters(command=argv[0], args=argv[1:])
    mode = MODERN if env.get("MCP_BENCH_ERA") == "modern" else "legacy"
    text = text_of(int(env.get("MCP_BENCH_BYTES", "10")))
    calls, warmup = int(env.get("MCP_BENCH_CALLS", "2000")), int(env.get("MCP_BENCH_WARMUP", "200"))
    async with Client(target, mode=mode) as client:
        report = await measure(client, calls, warmup, text)
    sys.stdout.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    anyio.run(main)
