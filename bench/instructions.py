"""Instructions per call: a yardstick that does not move with the machine's mood.

    python bench/instructions.py                        mcpkit and the official SDK, stdio
    python bench/instructions.py --targets mcpkit --window 64 --calls 2000
    python bench/instructions.py --clients --transport http     the client programs

On a shared machine timings move ±15-30% from one minute to the next, more than most single
changes are worth. This runs each stdio bench server under `valgrind --tool=cachegrind
--cache-sim=no` (Debian package `valgrind`), which counts the instructions the process
executes, twice: with `--calls` calls and with three times as many. The difference divided
by the extra calls is the cost of one call with start-up and shutdown cancelled out,
reproducible to about 1%. `--clients` does the same for the client programs (`bench/client.py`
and the official SDK's), each making sequential calls to the raw server, which is not
counted. It counts user-space instructions only (not system calls, not the
kernel's pipe work, not cache misses), so compare it between versions of the same code, and
read the ratio to the official SDK as "work per call", not as speed.

Under valgrind everything runs ~50x slower; the defaults take a few minutes for both
targets. The driver and workload are `bench/run.py`'s (`driver/`); every answer is checked.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import re
import shutil
import sys
import tempfile
from pathlib import Path

from driver import wire
from driver.units import CLIENTS, Logs, Settings, Target, client_unit, servers, stdio_server

_SUMMARY = re.compile(rb"^summary:\s+(\d+)", re.MULTILINE)


def instructions(out: Path) -> int:
    """The instruction total of a finished cachegrind run."""
    found = _SUMMARY.search(out.read_bytes())
    if found is None:
        raise RuntimeError(f"no cachegrind summary in {out}")
    return int(found.group(1))


def under_cachegrind(settings: Settings, out: Path) -> Settings:
    """`settings` whose targets run under cachegrind, writing their count to `out`."""
    wrapper = ("valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={out}")
    return dataclasses.replace(settings, wrapper=wrapper)


async def run_server(
    target: Target, calls: int, window: int, settings: Settings, logs: Logs, out: Path
) -> int:
    """Start the server under cachegrind, handshake, warm up, make `calls` echo calls with
    `window` in flight, let it exit; its instruction total."""
    argv = target.argv(under_cachegrind(settings, out))
    # cachegrind writes its file as the server exits: give it time to
    async with stdio_server(argv, logs(target.name), settings, grace=settings.max_s) as server:
        await server.handshake(target.era)
        await server.check_tools(target.era)
        workload = wire.Workload("echo", 10, target.era)
        await server.load(workload, settings.warmup, 1, settings.max_s)
        result = await server.load(workload, calls, window, settings.max_s)
        if result["errors"] or result["calls"] != calls:
            raise RuntimeError(f"{target.name}: {result['errors']} wrong answers of {calls}")
    return instructions(out)


async def run_client(
    target: Target, calls: int, transport: str, settings: Settings, logs: Logs, out: Path
) -> int:
    """Run the client program under cachegrind for `calls` calls; its instruction total."""
    result = await client_unit(target, transport, calls, under_cachegrind(settings, out), logs)
    if result["errors"] or result["calls"] != calls:
        raise RuntimeError(f"{target.name}: {result['errors']} wrong answers of {calls}")
    return instructions(out)


async def per_call(
    target: Target, args: argparse.Namespace, settings: Settings, logs: Logs, folder: Path
) -> float:
    """Instructions of one call: two runs, `calls` and `3 * calls`, differenced."""
    base: int = args.calls
    totals: list[int] = []
    for calls, out in ((base, folder / "small.out"), (3 * base, folder / "large.out")):
        if args.clients:
            totals.append(await run_client(target, calls, args.transport, settings, logs, out))
        else:
            totals.append(await run_server(target, calls, args.window, settings, logs, out))
    return (totals[1] - totals[0]) / (2 * base)


async def measure(args: argparse.Namespace) -> dict[str, float]:
    settings = Settings(python=args.python, warmup=args.warmup, max_s=args.max_s)
    wanted = args.targets.split(",")
    targets = [t for t in (CLIENTS if args.clients else servers()) if t.name in wanted]
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
                found[target.name] = await per_call(target, args, settings, logs, folder)
        finally:
            logs.close()
    return found


def table(found: dict[str, float], args: argparse.Namespace) -> str:
    what = (
        f"client programs over {args.transport}"
        if args.clients
        else f"stdio servers, {args.window} in flight"
    )
    lines = [
        f"{what}, echo: instructions per call (user space)",
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
    parser.add_argument("--window", type=int, default=1, help="requests in flight (servers)")
    parser.add_argument("--clients", action="store_true", help="count the client programs")
    parser.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--max-s", type=float, default=600.0, help="time bound of one load")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--logdir", help="keep the servers' stderr here")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    found = asyncio.run(measure(args))
    if args.json:
        import json

        print(json.dumps({name: round(count) for name, count in found.items()}))
    else:
        print(table(found, args))


if __name__ == "__main__":
    main()
