"""mcpkit on uvloop, the loop `mcpkit[fast]` installs and many applications run.

uvloop's transports and loop are alike to asyncio's but not the same classes, so code that
checks types (or leans on asyncio internals) breaks only there: the client's own HTTP wire
once refused every connection under uvloop. Each test here runs the client over a real
transport — a server subprocess over stdio, uvicorn on 127.0.0.1 over HTTP — on uvloop.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mcpkit.client import Client
from mcpkit.protocol.errors import RequestTimeout
from tests.http_harness import serving

pytestmark = pytest.mark.anyio
FRAMEWORK = Path(__file__).with_name("framework_server.py")


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    return "asyncio", {"use_uvloop": True}


async def _exercise(client: Client) -> None:
    result = await client.call_tool("add", {"a": 40, "b": 2})
    assert result.structured_content == {"result": 42}
    assert any(tool.name == "chatty" for tool in await client.list_tools())
    steps: list[float] = []

    async def progress(event: Any) -> None:
        steps.append(event.progress)

    chatty = await client.request(
        "tools/call", {"name": "chatty", "arguments": {}}, on_progress=progress
    )
    assert chatty.content[0].text == "done" and steps == [1, 2, 3]
    with pytest.raises(RequestTimeout):
        await client.call_tool("slow", {"seconds": 5}, timeout=0.1)


async def test_the_loop_is_uvloop() -> None:
    assert type(asyncio.get_running_loop()).__module__.startswith("uvloop")


@pytest.mark.parametrize("era", ["legacy", "modern"])
async def test_client_over_stdio(era: Any) -> None:
    async with Client([sys.executable, str(FRAMEWORK)], era=era) as client:
        await _exercise(client)


@pytest.mark.parametrize("era", ["legacy", "modern"])
async def test_client_over_http(era: Any) -> None:
    async with serving() as url, Client(url, era=era) as client:
        await _exercise(client)


PROGRAM = """
import asyncio, gc, mcpkit

async def main():
    return type(asyncio.get_running_loop()).__module__, gc.get_freeze_count() > 0

print(*mcpkit.run(main))
"""


@pytest.mark.parametrize(("switch", "loop"), [("1", "uvloop"), ("0", "asyncio")])
def test_mcpkit_run_picks_the_loop(switch: str, loop: str) -> None:
    """`mcpkit.run(main)` runs on uvloop when installed unless `MCPKIT_UVLOOP=0`, and
    freezes what exists at start-up out of the collector's reach."""
    env = {**os.environ, "MCPKIT_UVLOOP": switch}
    out = subprocess.run(
        [sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    module, frozen = out.stdout.split()
    assert module.split(".")[0] == loop and frozen == "True"
