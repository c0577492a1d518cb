"""The `mcpkit` command line, run as a real subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mcpkit

EXAMPLE = Path(__file__).parent.parent / "examples" / "echo_server.py"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcpkit", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_version() -> None:
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"mcpkit {mcpkit.__version__}"


def test_ping_both_eras() -> None:
    server = f"{sys.executable} {EXAMPLE}"
    modern = run("ping", server)
    assert modern.returncode == 0, modern.stderr
    assert "echo-server: pong (modern era, protocol 2026-07-28)" in modern.stdout
    legacy = run("ping", server, "--era", "legacy")
    assert "pong (legacy era, protocol 2025-11-25)" in legacy.stdout


def test_ping_failure_is_a_clear_error_and_exit_code() -> None:
    done = run("ping", f"{sys.executable} -c 'import sys; sys.exit(5)'")
    assert done.returncode == 4
    assert done.stderr.startswith("mcpkit: ")
    assert "Traceback" not in done.stderr
