"""The summary: medians, min-max and paired ratios per (suite, scenario, target); markdown.

Ratios are paired: within each rep, a target's figure is divided by the official SDK's
figure in the same era from the same rep (they ran back to back), then the median of those
ratios is taken, so slow drift of a shared machine cancels out.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import importlib.util
import os
import platform
from collections.abc import Iterable
from typing import Any, Final, TextIO

from driver.stats import median

METRIC: Final = {
    "stdio": "calls_per_s",
    "http": "calls_per_s",
    "client": "calls_per_s",
    "memory": "kb_per_session",
    "cold": "start_to_ready_ms",
}
UNIT: Final = {
    "calls_per_s": "calls/s",
    "kb_per_session": "KB/session",
    "start_to_ready_ms": "ms to ready",
}
EXTRAS: Final = (
    "p50_us",
    "p99_us",
    "server_cpu_us_per_call",
    "driver_cpu_us_per_call",
    "client_cpu_us_per_call",
    "idle_rss_kb",
    "rss_before_kb",
    "rss_with_sessions_kb",
    "rss_after_delete_kb",
    "sessions_per_s",
)
COLUMNS: Final = {
    "stdio": ("p50 µs", "p99 µs", "srv CPU µs/call", "drv CPU µs/call"),
    "http": ("p50 µs", "p99 µs", "srv CPU µs/call", "drv CPU µs/call"),
    "client": ("p50 µs", "p99 µs", "client CPU µs/call"),
    "memory": ("RSS before MB", "RSS w/ sessions MB", "RSS after DELETE MB", "sessions/s"),
    "cold": ("idle RSS MB",),
}
FIELDS: Final = {
    "p50 µs": "p50_us",
    "p99 µs": "p99_us",
    "srv CPU µs/call": "server_cpu_us_per_call",
    "drv CPU µs/call": "driver_cpu_us_per_call",
    "client CPU µs/call": "client_cpu_us_per_call",
    "RSS before MB": "rss_before_kb",
    "RSS w/ sessions MB": "rss_with_sessions_kb",
    "RSS after DELETE MB": "rss_after_delete_kb",
    "sessions/s": "sessions_per_s",
    "idle RSS MB": "idle_rss_kb",
}


def _paired_ratio(
    mine: dict[Any, dict[str, Any]], theirs: dict[Any, dict[str, Any]], key: str
) -> float | None:
    ratios = [
        run[key] / theirs[rep][key]
        for rep, run in mine.items()
        if run.get(key) and rep in theirs and theirs[rep].get(key)
    ]
    found = median(ratios)
    return None if found is None else round(found, 3)


def summarize(runs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (suite, scenario, target), in the order the runs came."""
    groups: dict[tuple[str, str], dict[str, dict[Any, dict[str, Any]]]] = {}
    for run in runs:
        by_target = groups.setdefault((run["suite"], run["scenario"]), {})
        by_target.setdefault(run["target"], {})[run["rep"]] = run
    rows = []
    for (suite, scenario), by_target in groups.items():
        key = METRIC[suite]
        good = {
            t: {r: x for r, x in reps.items() if "error" not in x} for t, reps in by_target.items()
        }
        for target, reps in by_target.items():
            values = [run[key] for run in good[target].values() if run.get(key) is not None]
            baseline = next(iter(reps.values())).get("baseline", "")
            row: dict[str, Any] = {
                "suite": suite,
                "scenario": scenario,
                "target": target,
                "metric": key,
                "reps": len(values),
                "median": median(values),
                "min": min(values, default=None),
                "max": max(values, default=None),
                "failed_reps": len(reps) - len(good[target]),
                "errors": sum(run.get("errors", 0) for run in good[target].values()),
                "vs_official": _paired_ratio(good[target], good.get(baseline, {}), key),
                "official": baseline,
            }
            for extra in EXTRAS:
                row[extra] = median(run.get(extra) for run in good[target].values())
            row["messages"] = sorted({run["error"] for run in reps.values() if "error" in run})
            rows.append(row)
    return rows


def _fmt(value: Any, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float | int):
        return f"{value:,.{digits}f}"
    return str(value)


def _cells(row: dict[str, Any]) -> list[str]:
    digits = 0 if row["metric"] == "calls_per_s" else 1
    ratio = row["vs_official"]
    cells = [
        row["target"],
        _fmt(row["median"], digits),
        f"{_fmt(row['min'], digits)}-{_fmt(row['max'], digits)}",
        "-" if ratio is None else f"{ratio:.2f}",
    ]
    for column in COLUMNS[row["suite"]]:
        value = row.get(FIELDS[column])
        if column.endswith("MB") and value is not None:
            cells.append(_fmt(value / 1024, 1))
        else:
            cells.append(_fmt(value))
    errors = str(row["errors"]) + (f" ({row['failed_reps']} failed)" if row["failed_reps"] else "")
    return [*cells, errors]


def print_tables(rows: list[dict[str, Any]], out: TextIO) -> None:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["suite"], row["scenario"]), []).append(row)
    for (suite, scenario), members in groups.items():
        key = members[0]["metric"]
        better = "higher" if key == "calls_per_s" else "lower"
        reps = max(row["reps"] + row["failed_reps"] for row in members)
        out.write(f"\n### {suite} / {scenario}\n\n")
        out.write(f"median [min-max] of {reps} rep(s); {better} is better; ")
        out.write("x official: paired per rep against the official SDK in the same era\n\n")
        header = ["target", UNIT[key], "min-max", "x official", *COLUMNS[suite], "errors"]
        lines = [header, *(_cells(row) for row in members)]
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        for index, line in enumerate(lines):
            padded = [
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(line, widths, strict=True))
            ]
            out.write("| " + " | ".join(padded) + " |\n")
            if index == 0:
                out.write("|" + "|".join("-" * (w + 2) for w in widths) + "|\n")
        for row in members:
            for message in row["messages"]:
                out.write(f"\n{row['target']} failed: {message}\n")


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    """Where and when the numbers were taken (for RESULTS.md)."""
    return {
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "loadavg_start": os.getloadavg(),
        "versions": {
            p: _version(p) for p in ("mcpkit", "mcp", "uvicorn", "anyio", "pydantic", "msgspec")
        },
        "uvloop": importlib.util.find_spec("uvloop") is not None,
        "httptools": importlib.util.find_spec("httptools") is not None,
    }


def print_machine(info: dict[str, Any], out: TextIO) -> None:
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    out.write(f"## mcpkit vs the official Python SDK — {info['date_utc']}\n\n")
    out.write(f"- machine: {info['cpu']}, {info['cpus']} CPUs, {info['platform']}\n")
    out.write(f"- Python {info['python']}; {versions}\n")
    stack = "uvloop" if info["uvloop"] else "asyncio", "httptools" if info["httptools"] else "h11"
    out.write(f"- uvicorn (HTTP servers, both SDKs): {stack[0]} + {stack[1]}, access log off\n")
    out.write(f"- load average at start: {' '.join(f'{x:.2f}' for x in info['loadavg_start'])}\n")
