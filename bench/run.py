"""The benchmark in one command: mcpkit against the official Python SDK, side by side.

    python bench/run.py                    all suites, 3 reps (about 10-15 minutes on 2 cores)
    python bench/run.py --quick            a smoke run with tiny counts, 1 rep (seconds)
    python bench/run.py --suite stdio,cold --reps 5 --json-out results.json

Suites: `stdio` (sequential and 64 in flight, 10 B and 100 KiB echo, `add`), `http` (JSON and
SSE responses, sequential and 64 keep-alive connections in one session), `memory` (KB per
idle legacy HTTP session), `cold` (spawn → first answer), `client` (each SDK's client
against a raw server, stdio and HTTP). Targets: mcpkit's `bench/server.py` and the official
SDK's `bench/peers/official_server.py`, each in the legacy era (`initialize`, 2025-11-25)
and the modern one (2026-07-28, rows `…/modern`), where the suite applies.

How it measures: every unit (suite, scenario, target, rep) starts a fresh server, initializes,
warms up, measures and stops it; in each rep every target runs once, in an order rotated per
rep. The tables give medians with min-max, and `x official`: the ratio to the official SDK in
the same era, paired per rep, then the median. Every answer is checked (echo text equal,
add == 42); a wrong answer counts as an error. The driver (`bench/driver/`) imports no SDK.
Exit status 1 if any unit failed or any answer was wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from driver import report, units
from driver.units import Scenario, Settings, Target
from driver.wire import Era

SUITES = ("stdio", "http", "memory", "cold", "client")
Unit = Callable[[], Awaitable[dict[str, Any]]]


@dataclass
class Group:
    """One table: a scenario every target runs `reps` times, interleaved."""

    suite: str
    scenario: str
    units: list[tuple[Target, Unit]]
    reps: int


def stdio_scenarios(scale: float) -> list[Scenario]:
    def n(count: int) -> int:
        return max(10, int(count * scale))

    return [
        Scenario("seq-echo-10B", n=n(5000)),
        Scenario("seq-add", "add", n=n(2000)),
        Scenario("seq-echo-100KB", nbytes=100 * 1024, n=n(500)),
        Scenario("c64-echo-10B", n=n(20000), window=64),
        Scenario("c64-echo-100KB", nbytes=100 * 1024, n=n(1000), window=64),
    ]


def http_scenarios(scale: float, modes: list[str]) -> list[Scenario]:
    def n(count: int) -> int:
        return max(10, int(count * scale))

    return [
        scenario
        for mode in modes
        for scenario in (
            Scenario(f"{mode}/seq-echo-10B", n=n(2000), mode=mode),
            Scenario(f"{mode}/c64-echo-10B", n=n(5000), window=64, mode=mode),
        )
    ]


def chosen(target: Target, args: argparse.Namespace) -> bool:
    return wanted(target.name, args.targets) and target.era.value in args.eras


def wanted(name: str, choice: list[str] | None) -> bool:
    """`--targets`/`--scenarios` match a whole name or its part before or after the "/"."""
    return choice is None or any(c in (name, *name.split("/")) for c in choice)


def build_plan(args: argparse.Namespace, settings: Settings, logs: units.Logs) -> list[Group]:
    """Which units run: every chosen suite, scenario and target (in the chosen eras)."""
    servers = [t for t in units.servers(sync=args.sync) if chosen(t, args)]
    clients = [t for t in units.CLIENTS if chosen(t, args)]
    suites, reps = args.suite, args.reps
    plan: list[Group] = []

    def add(suite: str, scenario: str, members: Sequence[tuple[Target, Unit]], count: int) -> None:
        if members and wanted(scenario, args.scenarios):
            plan.append(Group(suite, scenario, list(members), count))

    for sc in stdio_scenarios(args.scale) if "stdio" in suites else []:
        add(
            "stdio",
            sc.name,
            [(t, partial(units.stdio_unit, t, sc, settings, logs)) for t in servers],
            reps,
        )
    for sc in http_scenarios(args.scale, args.http_modes) if "http" in suites else []:
        add(
            "http",
            sc.name,
            [(t, partial(units.http_unit, t, sc, settings, logs)) for t in servers],
            reps,
        )
    if "memory" in suites:
        legacy = [t for t in servers if t.era is Era.LEGACY]  # modern HTTP has no sessions
        members = [(t, partial(units.memory_unit, t, settings, logs)) for t in legacy]
        add("memory", f"idle-sessions-{settings.sessions}", members, reps)
    if "cold" in suites:
        members = [(t, partial(units.cold_unit, t, settings, logs)) for t in servers]
        add("cold", "start-to-ready", members, args.cold_reps)
    for transport, count in (("stdio", 2000), ("http", 1000)) if "client" in suites else []:
        n = max(10, int(count * args.scale))
        members = [
            (t, partial(units.client_unit, t, transport, n, settings, logs)) for t in clients
        ]
        add("client", f"{transport}-seq-echo-10B", members, reps)
    return plan


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def run_plan(plan: list[Group], timeout: float, runs: list[dict[str, Any]]) -> None:
    """Run every unit, interleaved, appending one record per unit to `runs`."""
    for group in plan:
        for rep in range(group.reps):
            k = rep % len(group.units)
            for target, unit in group.units[k:] + group.units[:k]:  # nobody always goes first
                record: dict[str, Any] = {
                    "suite": group.suite,
                    "scenario": group.scenario,
                    "target": target.name,
                    "baseline": target.baseline,
                    "rep": rep,
                }
                started = time.monotonic()
                try:
                    record.update(await asyncio.wait_for(unit(), timeout))
                except Exception as exc:
                    record["error"] = f"{type(exc).__name__}: {exc}"
                record["elapsed_s"] = round(time.monotonic() - started, 2)
                runs.append(record)
                value = record.get(report.METRIC[group.suite], record.get("error"))
                where = f"{group.suite}/{group.scenario} rep {rep + 1}/{group.reps}"
                log(f"[{where}] {target.name}: {value}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    doc = __doc__ or ""
    parser = argparse.ArgumentParser(
        description=doc.split("\n\n")[0], epilog="\n\n".join(doc.split("\n\n")[2:])
    )
    parser.add_argument(
        "--suite", default=",".join(SUITES), help="comma list of: " + ", ".join(SUITES)
    )
    parser.add_argument("--targets", help="comma list: mcpkit, official-sdk, mcpkit/modern, ...")
    parser.add_argument("--eras", default="legacy,modern", help="legacy, modern or both")
    parser.add_argument(
        "--scenarios", help="comma list of scenario names (e.g. seq-echo-10B, json)"
    )
    parser.add_argument("--http-modes", default="json,sse", help="json, sse or both")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--cold-reps", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every call count")
    parser.add_argument("--sessions", type=int, default=1000, help="idle sessions (memory suite)")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--max-s", type=float, default=60.0, help="time bound of one load (s)")
    parser.add_argument("--quick", action="store_true", help="tiny counts, 1 rep: a smoke run")
    parser.add_argument("--sync", action="store_true", help="plain (threaded) tool functions")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the servers")
    parser.add_argument("--json-out", type=Path, help="write meta, summary and every run here")
    parser.add_argument("--logdir", type=Path, default=Path(tempfile.gettempdir()) / "mcpkit-bench")
    args = parser.parse_args(argv)
    if args.quick:
        args.scale, args.reps, args.cold_reps, args.warmup = 0.02, 1, 1, 20
        args.sessions = min(args.sessions, 50)
    for name in ("suite", "targets", "eras", "scenarios", "http_modes"):
        value = getattr(args, name)
        setattr(
            args,
            name,
            None if value is None else [v.strip() for v in value.split(",") if v.strip()],
        )
    return args


def use_uvloop() -> None:
    """The driver's own loop: uvloop when installed (the servers choose their own)."""
    with contextlib.suppress(ImportError):
        importlib.import_module("uvloop").install()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = Settings(args.python, args.warmup, args.max_s, args.sessions)
    logs = units.Logs(args.logdir)
    plan = build_plan(args, settings, logs)
    info = report.machine()
    info["args"] = {k: str(v) for k, v in vars(args).items()}
    log(f"{sum(len(g.units) * g.reps for g in plan)} measurements; server logs in {args.logdir}")
    use_uvloop()
    runs: list[dict[str, Any]] = []
    try:
        asyncio.run(run_plan(plan, args.max_s * 3 + 120, runs))
    except KeyboardInterrupt:
        log("interrupted: the summary covers what finished")
    finally:
        logs.close()
    rows = report.summarize(runs)
    report.print_machine(info, sys.stdout)
    report.print_tables(rows, sys.stdout)
    if args.json_out is not None:
        document = {"meta": info, "summary": rows, "runs": runs}
        args.json_out.write_text(json.dumps(document, indent=1, default=str) + "\n")
    failed = any(row["errors"] or row["failed_reps"] for row in rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
