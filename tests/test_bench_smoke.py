"""The benchmark runs: `bench/run.py --quick` on a few scenarios of each kind, so it never rots.

Layer: tests. A smoke run, not a measurement: tiny counts, one rep, and no assertion on any
timing. It runs `bench/run.py` as a user would (a subprocess), against both frameworks in
both eras (mcpkit's `bench/server.py` and `bench/client.py`, the official SDK's peers), and
checks that every unit completed, every answer was right, and every target has its row.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"mcpkit", "mcpkit/modern", "official-sdk", "official-sdk/modern"}
# One scenario per suite (and both transports for the clients) keeps this under a minute.
EXPECTED = {
    ("stdio", "c64-echo-10B"),
    ("http", "json/c64-echo-10B"),
    ("cold", "start-to-ready"),
    ("client", "stdio-seq-echo-10B"),
    ("client", "http-seq-echo-10B"),
}

pytestmark = pytest.mark.interop  # it runs the official SDK's server and client


def run_bench(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    out = tmp_path / "bench.json"
    scenarios = ",".join(sorted({scenario.split("/")[-1] for _, scenario in EXPECTED}))
    command = [
        sys.executable,
        str(ROOT / "bench" / "run.py"),
        "--quick",
        "--suite=stdio,http,cold,client",
        "--http-modes=json",
        f"--scenarios={scenarios}",
        f"--logdir={tmp_path / 'logs'}",
        f"--json-out={out}",
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=110, check=False, cwd=ROOT
    )
    document = json.loads(out.read_text()) if out.exists() else {}
    return done, document


def test_quick_bench_runs_every_target_without_errors(tmp_path: Path) -> None:
    done, document = run_bench(tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = document["summary"]
    found = {(row["suite"], row["scenario"], row["target"]) for row in rows}
    wanted = {(suite, scenario, target) for suite, scenario in EXPECTED for target in TARGETS}
    assert found == wanted
    for row in rows:
        where = f"{row['suite']}/{row['scenario']} {row['target']}"
        assert row["errors"] == 0, where
        assert row["failed_reps"] == 0, f"{where}: {row['messages']}"
        assert row["median"] is not None and row["median"] > 0, where
    assert all(f"### {suite} / {scenario}" in done.stdout for suite, scenario in EXPECTED)
    assert document["meta"]["versions"]["mcp"] != "not installed"


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
@pytest.mark.parametrize("what", [[], ["--clients"]], ids=["server", "client"])
def test_instruction_counts_come_out_per_call(what: list[str]) -> None:
    """`bench/instructions.py` runs a stdio server (or a client program) under cachegrind
    twice and differences the totals: what comes out is one call's work, not start-up (tens
    of millions of instructions)."""
    command = [
        sys.executable,
        str(ROOT / "bench" / "instructions.py"),
        "--targets=mcpkit",
        "--calls=30",
        "--warmup=5",
        "--json",
        *what,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=110, check=False, cwd=ROOT / "bench"
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    per_call = json.loads(done.stdout)["mcpkit"]
    assert 10_000 < per_call < 1_000_000, per_call
