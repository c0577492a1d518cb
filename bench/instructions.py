"""Instructions per call: a yardstick that does not move with the machine's mood.

    python bench/instructions.py                        mcpkit and the official SDK, stdio
    python bench/instructions.py --targets mcpkit --window 64 --calls 2000

On a shared machine timings move ±15-30% from one minute to the next, more than most single
changes are worth. This runs each stdio bench server under `valgrind --tool=cachegrind
--cache-sim=no` (Debian package `valgrind`), which counts the instructions the process
executes, twice: with `--calls` calls and with three times as many. The difference divided
by the extra calls is the cost of one call with start-up and shutdown cancelled out,
reproducible to about 1%. It counts user-space instructions only (not system calls, not the
kernel's pipe work, not cache misses), so compare it between versions of the same code, and
read the ratio to the official SDK as "work per call", not as speed.

Under valgrind everything runs ~50x slower; the defaults take a few minutes for both
targets. The driver and workload are `bench/run.py`'s (`driver/`); every answer is checked.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from driver import wire
from driver.units import Logs, Settings, Target, servers, stdio_server

_SUMMARY = re.compile(rb"^summary:\s+(\d+)", re.MULTILINE)


def instructions(out: Path) -> int:
    """The instruction total of a finished cachegrind run."""
    found = _SUMMARY.search(out.read_bytes())
    if found is None:
        raise RuntimeError(f"no cachegrind summary in {out}")
    return int(found.group(1))


async def run_once(
    target: Target, calls: int, window: int, settings: Settings, logs: Logs, out: Path
) -> int:
    """Start the server under cachegrind, handshake, warm up, make `calls` echo calls with
    `window` in flight, let it exit; its instruction total."""
    argv = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        f"--cachegrind-out-file={out}",
        *target.argv(settings),
    ]
    async with stdio_server(argv, logs(target.name), settings) as server:
        await server.handshake(target.era)
        await server.check_tools(target.era)
        workload = wire.Workload("echo", 10, target.era)
        await server.load(workload, settings.warmup, 1, settings.max_s)
        result = await server.load(workload, calls, window, settings.max_s)
        if result["errors"] or result["calls"] != calls:
            raise RuntimeError(f"{target.name}: {result['errors']} wrong answers of {calls}")
        await server.aclose(grace=settings.max_s)  # cachegrind writes its file at exit
    return instructions(out)


async def per_call(
    target: Target, calls: int, window: int, settings: Settings, logs: Logs, folder: Path
) -> float:
    """Instructions of one call: two runs, `calls` and `3 * calls`, differenced."""
    small = await run_once(target, calls, window, settings, logs, folder / "small.out")
    large = await run_once(target, 3 * calls, window, settings, logs, folder / "large.out")
    return (large - small) / (2 * calls)


async def measure(args: argparse.Namespace) -> dict[str, float]:
    settings = Settings(python=args.python, warmup=args.warmup, max_s=args.max_s)
    wanted = args.targets.split(",")
    targets = [t for t in servers() if t.name in wanted]
    missing = set(wanted) - {t.name for t in targets}
    if missing:
        raise SystemExit(f"unknown targets: {', '.join(sorted(missing))}")
    found: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="mcpkit-instructions-") as tmp:
        logs = Logs(Path(args.logdir) if args.logdir else Path(tmp) / "logs")
        try:
            for target in targets:
                folder = Path(tmp) / target.name.replace("/", "-")
                folder.mkdir()
                print(f"[{target.name}] under valgrind ...", file=sys.stderr, flush=True)
                found[target.name] = await per_call(
                    target, args.calls, args.window, settings, logs, folder
                )
        finally:
            logs.close()
    return found


def table(found: dict[str, float], window: int) -> str:
    lines = [
        f"stdio echo, {window} in flight: instructions per call (user space)",
        "",
        "| target | instructions/call | x official |",
        "|---|---|---|",
    ]
    for name, count in found.items():
        baseline = found.get("official-sdk/modern" if name.endswith("/modern") else "official-sdk")
        ratio = f"{baseline / count:.2f}" if baseline else "-"
        lines.append(f"| {name} | {count:,.0f} | {ratio} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", default="mcpkit,official-sdk")
    parser.add_argument("--calls", type=int, default=300, help="calls in the smaller run")
    parser.add_argument("--window", type=int, default=1, help="requests in flight")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--max-s", type=float, default=600.0, help="time bound of one load")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--logdir", help="keep the servers' stderr here")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    found: dict[str, Any] = asyncio.run(measure(args))
    if args.json:
        import json

        print(json.dumps({name: round(count) for name, count in found.items()}))
    else:
        print(table(found, args.window))


if __name__ == "__main__":
    main()
