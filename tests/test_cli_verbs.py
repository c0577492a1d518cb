"""`mcpkit list|call|read|prompt|ping SERVER`, run as real subprocesses.

Layer: tests. Every verb runs as `python -m mcpkit ...` against `tests/framework_server.py`,
reached each of the four ways SERVER can name it: a `.py` file and a `module:object` (served
in-process), a command line (spawned over stdio) and a name in a `--config` file. Each verb is
checked in human and `--json` form, in both eras, and every exit status has a case. The
`key=value` parsing and the failure mapping are tested as pure functions. About 30 processes
are started; keep it so (each costs about half a second).
"""

from __future__ import annotations

import json
import shlex
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mcpkit.cli import verbs
from mcpkit.cli.arguments import (
    ArgumentError,
    merge_arguments,
    parse_pairs,
    prompt_arguments,
    string_properties,
)
from mcpkit.cli.servers import ServerOptions, UsageError, parse_env
from mcpkit.protocol.errors import BrokenError, ConnectError, InvalidParams, RequestTimeout

ROOT = Path(__file__).resolve().parents[1]
FILE = "tests/framework_server.py:make_server"
MODULE = "tests.framework_server:make_server"
COMMAND = shlex.join([sys.executable, str(ROOT / "tests" / "framework_server.py")])


def mcpkit(*args: str, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    extra = ["--config", str(config)] if config is not None else []
    return subprocess.run(
        [sys.executable, "-m", "mcpkit", *args, *extra],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )


def ok_json(done: subprocess.CompletedProcess[str], status: int = 0) -> Any:
    assert done.returncode == status, done.stderr
    return json.loads(done.stdout)  # exactly one document: extra output would not parse


def failed(done: subprocess.CompletedProcess[str], status: int) -> str:
    """The one `mcpkit: ...` message of a failure with `status`, checked for shape."""
    assert done.returncode == status, (done.stdout, done.stderr)
    assert done.stdout == ""
    assert done.stderr.startswith("mcpkit: ")
    assert "Traceback" not in done.stderr
    assert "ExceptionGroup" not in done.stderr
    return done.stderr


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "servers.json"
    entry = {"command": sys.executable, "args": [str(ROOT / "tests" / "framework_server.py")]}
    remote = {"type": "sse", "url": "http://127.0.0.1:9/sse"}  # discard port: nobody listens
    path.write_text(json.dumps({"mcpServers": {"framework": entry, "remote": remote}}))
    return path


# ---- list ------------------------------------------------------------------------------


def test_list_everything_human_from_a_file() -> None:
    done = mcpkit("list", FILE)
    assert done.returncode == 0, done.stderr
    for expected in ("Tools", "forecast", "Forecast the weather", "test://static"):
        assert expected in done.stdout
    for expected in ("test://items/{item_id}", "review", "code*", "Prompts"):
        assert expected in done.stdout


def test_list_tools_json_legacy_from_a_module() -> None:
    listing = ok_json(mcpkit("list", MODULE, "tools", "--json", "--era", "legacy"))
    assert list(listing) == ["tools"]
    tools = {tool["name"]: tool for tool in listing["tools"]}
    assert {"forecast", "add", "fail"} <= set(tools)
    assert tools["forecast"]["inputSchema"]["required"] == ["city"]


def test_list_templates_json_from_a_command() -> None:
    listing = ok_json(mcpkit("list", COMMAND, "templates", "--json"))
    templates = [t["uriTemplate"] for t in listing["resourceTemplates"]]
    assert "test://items/{item_id}" in templates


def test_list_prompts_human_from_config(config: Path) -> None:
    done = mcpkit("list", "framework", "prompts", "--era", "legacy", config=config)
    assert done.returncode == 0, done.stderr
    assert "review" in done.stdout and "conversation" in done.stdout
    assert "forecast" not in done.stdout


# ---- call ------------------------------------------------------------------------------


def test_call_human_shows_structured_content() -> None:
    done = mcpkit("call", FILE, "forecast", "city=Paris")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"city": "Paris", "temperature": 21.5, "unit": "celsius"}


def test_call_json_from_a_module() -> None:
    result = ok_json(mcpkit("call", MODULE, "add", "a=2", "b=3", "--json"))
    assert result["structuredContent"] == {"result": 5}
    assert result["content"][0] == {"type": "text", "text": "5"}


def test_call_args_merge_pairs_win_over_a_command_legacy() -> None:
    done = mcpkit("call", COMMAND, "add", "--args", '{"a": 1, "b": 2}', "--json", "b=10")
    result = ok_json(done)
    assert result["structuredContent"] == {"result": 11}


def test_call_keeps_text_for_string_properties(config: Path) -> None:
    done = mcpkit("call", "framework", "forecast", "city=123", "--json", config=config)
    assert ok_json(done)["structuredContent"]["city"] == "123"


def test_call_is_error_exits_1_human_and_json() -> None:
    human = mcpkit("call", FILE, "fail", "reason=testing", "--era", "legacy")
    assert human.returncode == 1
    assert "failed on purpose: testing" in human.stdout
    result = ok_json(mcpkit("call", MODULE, "fail", "--json"), status=1)
    assert result["isError"] is True


@pytest.mark.parametrize("era", ["auto", "legacy"])
def test_call_unknown_tool_exits_3(era: str) -> None:
    message = failed(mcpkit("call", FILE, "no_such_tool", "--json", "--era", era), 3)
    assert "unknown tool" in message


# ---- read ------------------------------------------------------------------------------


def test_read_human_text_and_binary() -> None:
    done = mcpkit("read", FILE, "test://static")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "static content"
    done = mcpkit("read", COMMAND, "test://binary", "--era", "legacy")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[image/png, 8 bytes]"


def test_read_json_template(config: Path) -> None:
    result = ok_json(mcpkit("read", "framework", "test://items/7", "--json", config=config))
    (content,) = result["contents"]
    assert content["uri"] == "test://items/7"
    assert json.loads(content["text"]) == {"id": 7, "double": 14}


def test_read_unknown_resource_exits_3() -> None:
    assert "test://nowhere" in failed(mcpkit("read", MODULE, "test://nowhere"), 3)


# ---- prompt ----------------------------------------------------------------------------


def test_prompt_human() -> None:
    done = mcpkit("prompt", FILE, "review", "code=print(1)", "language=rust")
    assert done.returncode == 0, done.stderr
    assert "user:" in done.stdout
    assert "Please review this rust code:\nprint(1)" in done.stdout


def test_prompt_json_legacy_from_a_command() -> None:
    done = mcpkit("prompt", COMMAND, "review", "code=42", "--json", "--era", "legacy")
    (message,) = ok_json(done)["messages"]
    assert message["role"] == "user"
    assert message["content"]["text"].endswith("code:\n42")  # a prompt argument stays text


# ---- ping ------------------------------------------------------------------------------


def test_ping_human_and_json(config: Path) -> None:
    done = mcpkit("ping", MODULE)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "framework: pong (modern era, protocol 2026-07-28)"
    pong = ok_json(mcpkit("ping", "framework", "--json", "--era", "legacy", config=config))
    assert pong["era"] == "legacy" and pong["serverInfo"]["name"] == "framework"


# ---- failures --------------------------------------------------------------------------


def test_a_server_that_exits_at_once_exits_4_with_its_stderr() -> None:
    script = "import sys; print('no database configured', file=sys.stderr); sys.exit(3)"
    message = failed(mcpkit("ping", shlex.join([sys.executable, "-c", script])), 4)
    assert "no database configured" in message
    assert "exit code 3" in message


def test_a_silent_server_times_out_with_4() -> None:
    command = shlex.join([sys.executable, "-c", "import time; time.sleep(30)"])
    assert "did not answer" in failed(mcpkit("ping", command, "--timeout", "1"), 4)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["ping", "nowhere/server.py"], "no such file"),
        (["call", FILE, "add", "a"], "not key=value"),
    ],
)
def test_usage_errors_exit_2(args: list[str], expected: str) -> None:
    assert expected in failed(mcpkit(*args), 2)


def test_config_usage_errors_exit_2(config: Path) -> None:
    assert "unknown server 'framwork'" in failed(mcpkit("ping", "framwork", config=config), 2)


def test_an_unreachable_sse_config_entry_exits_4(config: Path) -> None:
    assert "127.0.0.1:9" in failed(mcpkit("list", "remote", config=config), 4)


def test_an_unreachable_url_exits_4() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert f"127.0.0.1:{port}" in failed(mcpkit("ping", f"http://127.0.0.1:{port}/mcp"), 4)


def test_argparse_errors_exit_2() -> None:
    done = mcpkit("list", FILE, "widgets")
    assert done.returncode == 2 and "invalid choice" in done.stderr


def test_rich_loads_only_for_human_output() -> None:
    code = f"""
import contextlib, io, sys
from mcpkit.cli.main import main
with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):
    main(["--version"])
after_version = "rich" in sys.modules
with contextlib.redirect_stdout(io.StringIO()):
    main(["ping", {FILE!r}, "--json"])
after_json = "rich" in sys.modules
with contextlib.redirect_stdout(io.StringIO()):
    main(["ping", {FILE!r}])
print(after_version, after_json, "rich" in sys.modules)
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert done.stdout.split() == ["False", "False", "True"], done.stderr


# ---- pure parts ------------------------------------------------------------------------


def test_values_are_json_when_they_parse() -> None:
    pairs = ["n=3", "x=1.5", "flag=true", "none=null", 'tags=["a","b"]', "city=Paris"]
    assert parse_pairs([*pairs, "eq=a=b", "empty="]) == {
        "n": 3,
        "x": 1.5,
        "flag": True,
        "none": None,
        "tags": ["a", "b"],
        "city": "Paris",
        "eq": "a=b",
        "empty": "",
    }


def test_string_properties_keep_their_text() -> None:
    schema = {
        "type": "object",
        "properties": {
            "zip": {"type": "string"},
            "maybe": {"type": ["string", "null"]},
            "either": {"type": ["string", "integer"]},
            "unit": {"enum": ["c", "f"]},
            "n": {"type": "integer"},
        },
    }
    keep = string_properties(schema)
    assert keep == {"zip", "maybe", "unit"}
    assert parse_pairs(["zip=01234", "n=01", "either=7", "maybe=1"], keep_text=keep) == {
        "zip": "01234",
        "n": "01",  # not JSON (leading zero): text
        "either": 7,
        "maybe": "1",
    }
    assert string_properties(None) == set() == string_properties({"properties": []})


def test_args_document_merges_under_pairs() -> None:
    assert merge_arguments(["a=2"], '{"a": 1, "b": [1]}') == {"a": 2, "b": [1]}
    assert merge_arguments([], None) == {}
    with pytest.raises(ArgumentError, match="not valid JSON"):
        merge_arguments([], "{nope")
    with pytest.raises(ArgumentError, match="JSON object"):
        merge_arguments([], "[1]")


@pytest.mark.parametrize("bad", ["novalue", "=1"])
def test_malformed_pairs(bad: str) -> None:
    with pytest.raises(ArgumentError):
        parse_pairs([bad])


def test_prompt_arguments_are_strings() -> None:
    assert prompt_arguments(["n=3", "s=x"], '{"m": [1], "t": "y", "n": 0}') == {
        "n": "3",
        "s": "x",
        "m": "[1]",
        "t": "y",
    }


def test_env_pairs() -> None:
    assert parse_env(["A=1", "B=x=y", "C="]) == {"A": "1", "B": "x=y", "C": ""}
    with pytest.raises(UsageError):
        parse_env(["A"])


def test_timeout_bounds_every_wait() -> None:
    options = ServerOptions(timeout=4.0).client_options()
    assert options == {
        "era": "auto",
        "timeout": 4.0,
        "max_timeout": 4.0,
        "start_timeout": 4.0,
        "probe_timeout": 2.0,
    }
    assert ServerOptions(era="legacy").client_options() == {"era": "legacy"}


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (UsageError("bad"), 2),
        (ArgumentError("bad"), 2),
        (InvalidParams("unknown tool: x"), 3),
        (ConnectError("could not start"), 4),
        (RequestTimeout("slow"), 4),
        (ExceptionGroup("wrapped", [ValueError("other"), BrokenError("died")]), 4),
        (ExceptionGroup("nested", [ExceptionGroup("inner", [InvalidParams("x")])]), 3),
        (RuntimeError("surprise"), 3),
    ],
)
def test_failures_map_to_statuses(error: BaseException, status: int) -> None:
    code, message = verbs._failure(error)
    assert code == status
    assert "Group" not in message
