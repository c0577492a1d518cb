"""`ClientGroup` over in-process servers, a real stdio server and a broken one; tool naming.

Layer: tests. The group must connect what it can, report what it cannot (with the server's
stderr), never raise an ExceptionGroup, and route calls by collision-free names that every LLM
provider accepts; the naming rule is property-tested.
"""

from __future__ import annotations

import re
import socket
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcpkit.client import Client, ClientGroup, ServerConfig, load_config
from mcpkit.client.group import MAX_NAME_LENGTH, ClientTarget, ToolNames, exposed_name
from mcpkit.protocol.errors import ClosedError, ConnectError, MethodNotFound
from mcpkit.server import Server

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).parent.parent
LLM_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
BROKEN = "import sys; sys.stderr.write('fatal: no API token configured\\n'); sys.exit(1)"


def named_server(name: str) -> Server:
    server = Server(name)

    @server.tool()
    async def echo(text: str) -> str:
        return f"{name}: {text}"

    return server


def beta_server() -> Server:
    server = named_server("beta")

    @server.tool(name="files.read")
    def read(path: str) -> str:
        return f"contents of {path}"

    return server


def config() -> dict[str, Any]:
    return {
        "mcpServers": {
            "stdio": {
                "command": sys.executable,
                "args": ["examples/echo_server.py"],
                "cwd": str(ROOT),
            },
            "broken": {"command": sys.executable, "args": ["-c", BROKEN]},
            "remote": {"url": f"http://127.0.0.1:{refused_port()}/mcp"},
            "off": {"command": "never-started", "disabled": True},
        }
    }


def refused_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def mixed_group() -> dict[str, ServerConfig | ClientTarget]:
    """Two in-process servers, then the config's entries (stdio, broken, remote)."""
    servers: dict[str, ServerConfig | ClientTarget] = {
        "alpha": named_server("alpha"),
        "beta": beta_server(),
    }
    servers.update(load_config(config()))
    return servers


def text_of(result: Any) -> str:
    text: str = result.content[0].text
    return text


async def test_group_connects_the_good_and_reports_the_bad() -> None:
    with anyio.fail_after(30):
        async with ClientGroup(mixed_group(), start_timeout=20) as group:
            assert sorted(group.clients) == ["alpha", "beta", "stdio"]
            assert sorted(group.failures) == ["broken", "remote"]
            broken = group.failures["broken"]
            assert isinstance(broken, ConnectError)
            assert "fatal: no API token configured" in str(broken)
            assert "exit code 1" in str(broken)
            assert isinstance(group.failures["remote"], ConnectError)
            assert "127.0.0.1" in str(group.failures["remote"])
            clients = dict(group.clients)
        assert group.clients == {}
        assert sorted(group.failures) == ["broken", "remote"]
    with pytest.raises(ClosedError):
        await clients["alpha"].ping()  # closed by the group


async def test_tools_are_aggregated_and_calls_routed() -> None:
    with anyio.fail_after(30):
        async with ClientGroup(mixed_group()) as group:
            tools = await group.list_tools()
            names = [tool.name for tool in tools]
            assert names == [
                "alpha__echo",
                "beta__echo",
                "beta__files_read",
                "stdio__echo",
                "stdio__add",
            ]
            by_name = {tool.name: tool for tool in tools}
            assert by_name["beta__files_read"].tool.name == "files.read"
            assert by_name["stdio__add"].server == "stdio"
            assert group.resolve("beta__files_read") == ("beta", "files.read")
            for server in ("alpha", "beta", "stdio"):
                result = await group.call_tool(f"{server}__echo", {"text": "hi"})
                assert text_of(result) == ("hi" if server == "stdio" else f"{server}: hi")
            assert text_of(await group.call_tool("stdio__add", {"a": 2, "b": 40})) == "42"
            read = await group.call_tool("beta__files_read", {"path": "/x"})
            assert text_of(read) == "contents of /x"
            with pytest.raises(KeyError, match="nope__echo"):
                await group.call_tool("nope__echo", {})


async def test_call_tool_lists_first_and_listing_failures_are_isolated() -> None:
    servers = {"alpha": named_server("alpha"), "empty": Server("empty")}
    with anyio.fail_after(10):
        async with ClientGroup(servers) as group:
            assert text_of(await group.call_tool("alpha__echo", {"text": "x"})) == "alpha: x"
            assert sorted(group.clients) == ["alpha", "empty"]
            # modern: the server itself answers -32601 for the tools it does not offer
            assert isinstance(group.list_errors["empty"], MethodNotFound)
            assert [tool.name for tool in await group.list_tools()] == ["alpha__echo"]


async def test_from_config_and_all_failing_raises_nothing(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(
        '{"servers": {"a": {"command": "${PY}", "args": ["-c", "raise SystemExit(3)"]},'
        ' "b": {"command": "/nonexistent/mcp-server"}}}',
        encoding="utf-8",
    )
    with anyio.fail_after(30):
        async with ClientGroup.from_config(path, environ={"PY": sys.executable}) as group:
            assert group.clients == {}
            assert sorted(group.failures) == ["a", "b"]
            assert "exit code 3" in str(group.failures["a"])
            assert await group.list_tools() == []


async def test_a_group_is_entered_once() -> None:
    group = ClientGroup({})
    async with group:
        with pytest.raises(RuntimeError, match="only once"):
            await group.__aenter__()


async def test_an_error_in_the_body_comes_out_as_itself() -> None:
    async def use_and_fail() -> None:
        async with ClientGroup({"alpha": named_server("alpha")}) as group:
            assert list(group.clients) == ["alpha"]
            raise ValueError("mine")

    with anyio.fail_after(10), pytest.raises(ValueError, match="mine"):
        await use_and_fail()


async def test_other_client_targets_are_accepted() -> None:
    argv = [sys.executable, str(ROOT / "examples" / "echo_server.py")]
    with anyio.fail_after(30):
        async with ClientGroup({"argv": argv}, era="legacy") as group:
            assert isinstance(group.clients["argv"], Client)
            assert group.clients["argv"].server_info["name"] == "echo-server"


# ---- naming --------------------------------------------------------------------------------


def test_plain_names_and_pinned_hashes() -> None:
    assert exposed_name("github", "create_issue", ()) == "github__create_issue"
    assert exposed_name("my server", "files.read", ()) == "my_server__files_read"
    assert exposed_name("", "", ()) == "__"
    long = exposed_name("s", "t" * 100, ())
    assert len(long) == MAX_NAME_LENGTH
    assert long == "s__" + "t" * 52 + "_" + long[-8:]
    assert long == exposed_name("s", "t" * 100, ())  # a stable hash, not Python's hash()
    assert exposed_name("a", "b", {"a__b"}) != "a__b"


def test_exact_names_win_over_sanitized_ones() -> None:
    names = ToolNames([("s", "a.b"), ("s", "a_b")])
    assert names.name("s", "a_b") == "s__a_b"
    assert names.name("s", "a.b").startswith("s__a_b_")
    separator = ToolNames([("a__b", "c"), ("a", "b__c")])
    assert separator.name("a__b", "c") == "a__b__c"
    assert separator.name("a", "b__c") != "a__b__c"
    with pytest.raises(KeyError):
        names.name("s", "zzz")


NAMES = st.one_of(
    st.text(),
    st.text(alphabet="ab_.-é", max_size=4),
    st.text(alphabet="a_", min_size=55, max_size=70),
    st.text(min_size=60, max_size=300),
)
PAIRS = st.lists(st.tuples(NAMES, NAMES), max_size=30)


@given(PAIRS)
def test_names_are_valid_unique_deterministic_and_invertible(
    pairs: list[tuple[str, str]],
) -> None:
    names = ToolNames(pairs)
    again = ToolNames(pairs)
    assigned = {pair: names.name(*pair) for pair in pairs}
    assert len(set(assigned.values())) == len(assigned) == len(names)
    for pair, name in assigned.items():
        assert LLM_NAME.fullmatch(name), name
        assert again.name(*pair) == name
        assert names.resolve(name) == pair


@given(NAMES, NAMES, st.sets(st.text(alphabet="ab_-", max_size=8)))
def test_exposed_name_avoids_what_is_taken(server: str, tool: str, taken: set[str]) -> None:
    name = exposed_name(server, tool, taken)
    assert LLM_NAME.fullmatch(name)
    assert name not in taken
    assert name == exposed_name(server, tool, taken)
