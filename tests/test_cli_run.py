"""`mcpkit run TARGET` and `mcpkit server NAME`, run as real subprocesses.

Layer: tests. Each working target is spawned as `python -m mcpkit run ...` by an mcpkit
`Client` (a command argv) and pinged and listed; each broken one is run to its exit, which
must be status 2 with a one-line `mcpkit: ...` message and no traceback.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import anyio
import pytest

from mcpkit.cli.targets import split_target
from mcpkit.client import Client

pytestmark = pytest.mark.anyio

MCPKIT = [sys.executable, "-m", "mcpkit"]

SERVER_FILE = """
from mcpkit.server import Server

print("printed at import time")  # must not reach the protocol stream

server = Server("from-file")


@server.tool()
def hello(name: str) -> str:
    "Say hello."
    return f"Hello, {name}!"
"""

OTHER_OBJECTS = """
from mcpkit.server import Server

first = Server("first")
second = Server("second")


@second.tool()
def only_on_second() -> str:
    "A tool of the second server."
    return "second"


def make() -> Server:
    made = Server("made")
    made.add_tool(lambda: "made", name="made_tool")
    return made


async def make_async() -> Server:
    return Server("async")


def make_nothing() -> int:
    return 42


class Holder:
    inner = Server("inner")
    inner.add_tool(lambda: "inner", name="inner_tool")


number = 7
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(textwrap.dedent(SERVER_FILE), encoding="utf-8")
    (tmp_path / "several.py").write_text(textwrap.dedent(OTHER_OBJECTS), encoding="utf-8")
    (tmp_path / "empty.py").write_text("x = 1\n", encoding="utf-8")
    return tmp_path


async def served(folder: Path, *args: str) -> tuple[str, list[str]]:
    """Spawn `mcpkit ARGS` in `folder`: the server's name and its tool names."""
    async with Client([*MCPKIT, *args], cwd=str(folder)) as client:
        await client.ping()
        tools = [tool.name for tool in await client.list_tools()]
        return client.server_info["name"], tools


@pytest.mark.parametrize(
    ("args", "name", "tools"),
    [
        (("run", "app.py"), "from-file", ["hello"]),
        (("run", "./app.py:server"), "from-file", ["hello"]),
        (("run", "several.py:second"), "second", ["only_on_second"]),
        (("run", "several.py:make"), "made", ["made_tool"]),
        (("run", "several.py:Holder.inner"), "inner", ["inner_tool"]),
        (("run", "app"), "from-file", ["hello"]),
        (("run", "several:make", "--transport", "stdio"), "made", ["made_tool"]),
        (("run", "mcpkit.servers.everything"), "mcpkit-everything", None),
        (("run", "mcpkit.servers.everything:build"), "mcpkit-everything", None),
        (("server", "everything"), "mcpkit-everything", None),
    ],
)
async def test_run_targets(
    folder: Path, args: tuple[str, ...], name: str, tools: list[str] | None
) -> None:
    got_name, got_tools = await served(folder, *args)
    assert got_name == name
    if tools is None:
        assert "test_simple_text" in got_tools
    else:
        assert got_tools == tools


async def test_absolute_path_from_elsewhere(
    folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    got_name, _ = await served(elsewhere, "run", str(folder / "app.py"))
    assert got_name == "from-file"


def run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MCPKIT, *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", "missing.py"), "no such file: missing.py"),
        (("run", "no_such_module"), "no module named 'no_such_module'"),
        (("run", "no_such_package.mod:obj"), "no module named 'no_such_package.mod'"),
        (("run", "app.py:nothing"), "app.py has no object 'nothing'"),
        (("run", "several.py:number"), "several.py:number is a int, not an mcpkit Server"),
        (("run", "several.py:make_nothing"), "returned a int, not an mcpkit Server"),
        (("run", "several.py:make_async"), "is an async function"),
        (("run", "several.py"), "several servers (first, second)"),
        (("run", "empty.py"), "empty.py has no Server"),
        (("run", "not a module!"), "is neither a .py file nor a module name"),
        (("server", "nope"), "unknown server 'nope'; available: everything"),
    ],
)
def test_bad_targets_exit_2(folder: Path, args: tuple[str, ...], message: str) -> None:
    done = run(folder, *args)
    assert done.returncode == 2, done.stderr
    last = done.stderr.splitlines()[-1]
    assert last.startswith("mcpkit: ")
    assert message in last
    assert "Traceback" not in done.stderr
    assert done.stdout == ""  # even what the module printed at import went to stderr


def test_prints_at_import_go_to_stderr(folder: Path) -> None:
    done = run(folder, "run", "app.py:nothing")
    assert done.stderr.splitlines()[0] == "printed at import time"
    assert done.stdout == ""


async def test_run_over_http(folder: Path) -> None:
    """`mcpkit run app.py --transport http --port N` serves Streamable HTTP on loopback, and
    the old HTTP+SSE transport beside it; the banner names both URLs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [*MCPKIT, "run", "app.py", "--transport", "http", "--port", str(port)]
    process = await anyio.open_process(command, cwd=str(folder))
    try:
        with anyio.fail_after(30):
            while True:  # bounded: until uvicorn accepts connections
                try:
                    await (await anyio.connect_tcp("127.0.0.1", port)).aclose()
                    break
                except OSError:
                    await anyio.sleep(0.05)
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                await client.ping()
                assert client.server_info["name"]
            async with Client(f"http://127.0.0.1:{port}/sse", transport="sse") as old:
                await old.ping()  # the old HTTP+SSE transport, served beside /mcp
            assert process.stderr is not None
            banner = (await process.stderr.receive()).decode()
            assert f"http://127.0.0.1:{port}/mcp" in banner
            assert f"http://127.0.0.1:{port}/sse" in banner
    finally:
        process.terminate()
        await process.wait()
        await process.aclose()


async def test_bad_target_seen_by_a_client(folder: Path) -> None:
    from mcpkit.protocol.errors import ConnectError

    with pytest.raises(ConnectError, match="no such file"):
        async with Client([*MCPKIT, "run", "missing.py"], cwd=str(folder), start_timeout=30):
            pass


@pytest.mark.parametrize(
    ("target", "split"),
    [
        ("app.py", ("app.py", None)),
        ("app.py:server", ("app.py", "server")),
        ("pkg.mod:factory.inner", ("pkg.mod", "factory.inner")),
        ("C:\\srv\\app.py", ("C:\\srv\\app.py", None)),
        ("C:\\srv\\app.py:app", ("C:\\srv\\app.py", "app")),
        (":server", (":server", None)),
    ],
)
def test_split_target(target: str, split: tuple[str, str | None]) -> None:
    assert split_target(target) == split
