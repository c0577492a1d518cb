"""Host config files (`mcpServers` / `servers`) read into `ServerConfig`s: pure, no I/O but files.

Layer: tests. Each host's format, type inference, variable substitution, and every error
saying where it is.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from mcpkit.client import Client, ConfigError, ServerConfig, load_config
from mcpkit.protocol.errors import MCPKitError

ENV = {"HOME": "/home/me", "TOKEN": "s3cret", "EMPTY": ""}


def load(data: dict[str, Any], **kw: Any) -> dict[str, ServerConfig]:
    kw.setdefault("environ", ENV)
    return load_config(data, **kw)


def one(entry: dict[str, Any], **kw: Any) -> ServerConfig:
    return load({"mcpServers": {"s": entry}}, **kw)["s"]


def fails(data: dict[str, Any] | str, *fragments: str, **kw: Any) -> str:
    kw.setdefault("environ", ENV)
    with pytest.raises(ConfigError) as caught:
        load_config(data, **kw)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


# ---- formats ---------------------------------------------------------------------------


def test_claude_desktop_file(tmp_path: Path) -> None:
    path = tmp_path / "claude_desktop_config.json"
    path.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "filesystem": {
                        "command": "npx",
                        "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"],
                    },
                    "github": {
                        "command": "npx",
                        "args": ["-y", "@modelcontextprotocol/server-github"],
                        "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "<token>"},
                    },
                }
            }
        ),
        encoding="utf-8",
    )
    servers = load_config(path)
    assert list(servers) == ["filesystem", "github"]
    fs = servers["filesystem"]
    assert fs == ServerConfig(
        name="filesystem",
        transport="stdio",
        command="npx",
        args=("-y", "@modelcontextprotocol/server-filesystem", "/tmp"),
    )
    assert servers["github"].env == {"GITHUB_PERSONAL_ACCESS_TOKEN": "<token>"}
    assert load_config(str(path)) == servers


def test_claude_code_remote_entries() -> None:
    servers = load(
        {
            "mcpServers": {
                "remote": {
                    "type": "http",
                    "url": "https://example.com/mcp",
                    "headers": {"Authorization": "Bearer ${TOKEN}"},
                },
                "legacy": {"type": "sse", "url": "https://example.com/sse"},
            }
        }
    )
    assert servers["remote"].transport == "http"
    assert servers["remote"].url == "https://example.com/mcp"
    assert servers["remote"].headers == {"Authorization": "Bearer s3cret"}
    assert servers["legacy"].transport == "sse"


def test_inspector_streamable_http_and_unknown_keys_kept() -> None:
    config = one(
        {
            "type": "streamable-http",
            "url": "http://localhost:3000/mcp",
            "protocolEra": "modern",
            "connectionTimeout": 5000,
            "roots": [{"uri": "file:///tmp"}],
            "disabled": False,
        }
    )
    assert config.transport == "http"
    assert config.extra == {
        "protocolEra": "modern",
        "connectionTimeout": 5000,
        "roots": [{"uri": "file:///tmp"}],
        "disabled": False,
    }


def test_vscode_servers_with_comments_and_trailing_commas() -> None:
    text = """{
      // VS Code allows comments (JSONC)
      "inputs": [],
      "servers": {
        "fetch": {"type": "stdio", "command": "uvx", "args": ["mcp-server-fetch",],},
        /* a remote one */
        "docs": {"type": "http", "url": "https://example.com/mcp"},
      },
    }"""
    servers = load_config(text, environ=ENV)
    assert servers["fetch"].args == ("mcp-server-fetch",)
    assert servers["docs"].transport == "http"


def test_comment_markers_inside_strings_are_text() -> None:
    config = one({"command": "run", "args": ["http://x/*y*/", "a,]", 'q"//"']})
    assert config.args == ("http://x/*y*/", "a,]", 'q"//"')
    text = '{"mcpServers": {"s": {"command": "c", "args": ["// not a comment", ",}"]}}}'
    assert load_config(text)["s"].args == ("// not a comment", ",}")


def test_both_tables_are_read_and_names_must_be_unique() -> None:
    servers = load({"mcpServers": {"a": {"command": "a"}}, "servers": {"b": {"command": "b"}}})
    assert list(servers) == ["a", "b"]
    fails({"mcpServers": {"a": {"command": "a"}}, "servers": {"a": {"command": "b"}}}, "'a'")


def test_cwd_timeout_and_empty_table() -> None:
    config = one({"command": "c", "cwd": "${HOME}/work", "timeout": 90})
    assert config.cwd == "/home/me/work"
    assert config.timeout == 90.0
    assert load({"mcpServers": {}}) == {}


# ---- type inference ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "transport"),
    [
        ({"command": "x"}, "stdio"),
        ({"url": "https://h/mcp"}, "http"),
        ({"url": "https://h/sse"}, "sse"),
        ({"url": "https://h/v1/sse/"}, "sse"),
        ({"url": "https://h/sse/more"}, "http"),
        ({"url": "https://h/ssexyz"}, "http"),
        ({"url": "https://h/mcp?x=/sse"}, "http"),
        ({"command": "x", "url": "https://h/sse"}, "stdio"),
        ({"type": "sse", "url": "https://h/events"}, "sse"),
    ],
)
def test_type_inference(entry: dict[str, Any], transport: str) -> None:
    assert one(entry).transport == transport


def test_disabled_entries_are_skipped() -> None:
    servers = load({"mcpServers": {"on": {"command": "a"}, "off": {"disabled": True}}})
    assert list(servers) == ["on"]


# ---- substitution ------------------------------------------------------------------------


def test_substitution_in_every_field() -> None:
    config = one(
        {
            "command": "${HOME}/bin/tool",
            "args": ["--token=${TOKEN}", "${env:TOKEN}", "${workspaceFolder}/src"],
            "env": {"API_KEY": "${TOKEN}", "LEVEL": "${LEVEL:-info}"},
            "cwd": "${workspaceFolder}",
        },
        workspace="/repo",
    )
    assert config.command == "/home/me/bin/tool"
    assert config.args == ("--token=s3cret", "s3cret", "/repo/src")
    assert config.env == {"API_KEY": "s3cret", "LEVEL": "info"}
    assert config.cwd == "/repo"
    remote = one({"url": "https://${HOST:-example.com}/mcp", "headers": {"X": "${env:TOKEN}"}})
    assert remote.url == "https://example.com/mcp"
    assert remote.headers == {"X": "s3cret"}


def test_defaults() -> None:
    config = one({"command": "c", "args": ["${TOKEN:-x}", "${EMPTY:-fallback}", "${NOPE:-}"]})
    assert config.args == ("s3cret", "fallback", "")
    assert one({"command": "c", "args": ["${EMPTY}", "${NOPE:-a:-b}"]}).args == ("", "a:-b")
    assert one({"command": "c", "args": ["${env:NOPE:-d}"]}).args == ("d",)


def test_unsubstituted_text_is_left_alone() -> None:
    assert one({"command": "c", "args": ["$HOME", "$${TOKEN}", "{x}"]}).args == (
        "$HOME",
        "$s3cret",
        "{x}",
    )


def test_extra_is_not_substituted() -> None:
    assert one({"command": "c", "note": "${NOPE}"}).extra == {"note": "${NOPE}"}


@pytest.mark.parametrize(
    ("entry", "field", "variable"),
    [
        ({"command": "${NOPE}"}, "'command'", "'NOPE'"),
        ({"command": "c", "args": ["ok", "${NOPE}"]}, "'args[1]'", "'NOPE'"),
        ({"command": "c", "env": {"KEY": "${env:NOPE}"}}, "'env.KEY'", "'NOPE'"),
        ({"command": "c", "cwd": "${workspaceFolder}"}, "'cwd'", "${workspaceFolder}"),
        ({"url": "https://${NOPE}/mcp"}, "'url'", "'NOPE'"),
        ({"url": "https://h/mcp", "headers": {"A": "${NOPE}"}}, "'headers.A'", "'NOPE'"),
    ],
)
def test_undefined_variables_name_server_field_and_variable(
    entry: dict[str, Any], field: str, variable: str
) -> None:
    fails({"mcpServers": {"srv": entry}}, "server 'srv'", f"field {field}", variable)


def test_unsupported_variable_syntax() -> None:
    fails({"mcpServers": {"s": {"command": "${userHome}/x"}}}, "'userHome' is not set")
    fails({"mcpServers": {"s": {"command": "${a b}"}}}, "${a b}", "not a supported variable")
    fails({"mcpServers": {"s": {"command": "${}"}}}, "not a supported variable")


def test_vscode_inputs_are_refused_by_id() -> None:
    data = {
        "inputs": [{"type": "promptString", "id": "api-key", "password": True}],
        "servers": {"p": {"command": "c", "env": {"KEY": "${input:api-key}"}}},
    }
    message = fails(data, "server 'p'", "'env.KEY'", "'api-key'", "interactive inputs")
    assert "not supported" in message


def test_environ_defaults_to_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCPKIT_TEST_VALUE", "from-os")
    config = load_config({"mcpServers": {"s": {"command": "${MCPKIT_TEST_VALUE}"}}})
    assert config["s"].command == "from-os"


# ---- errors --------------------------------------------------------------------------------


def test_json_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text('{\n  "mcpServers": {\n    "a": {"command": "x"}\n    "b": {}\n  }\n}\n')
    message = fails(str(path), "line 4, column 5", str(path))
    assert isinstance(ConfigError(message), MCPKitError)
    fails('{"mcpServers": {"a": ', "config text", "line 1, column 22")


def test_unreadable_file(tmp_path: Path) -> None:
    fails(str(tmp_path / "missing.json"), "cannot read config file", "missing.json")


@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        ([], ("top level must be a JSON object",)),
        ({"other": {}}, ("no 'mcpServers'",)),
        ({"mcpServers": []}, ("'mcpServers' must be an object",)),
        ({"mcpServers": {"s": "npx"}}, ("server 's'", "must be an object")),
        ({"mcpServers": {"s": {}}}, ("server 's'", "needs a command (stdio) or a url")),
        ({"mcpServers": {"s": {"type": "ws", "url": "u"}}}, ("'type'", "'ws'", "stdio")),
        ({"mcpServers": {"s": {"type": "stdio", "url": "u"}}}, ("'command'", "needs a")),
        ({"mcpServers": {"s": {"type": "http", "command": "c"}}}, ("'url'", "needs a url")),
        ({"mcpServers": {"s": {"command": 3}}}, ("'command'", "not a number")),
        ({"mcpServers": {"s": {"command": "c", "args": "-v"}}}, ("'args'", "array")),
        ({"mcpServers": {"s": {"command": "c", "args": [1]}}}, ("'args[0]'", "a number")),
        ({"mcpServers": {"s": {"command": "c", "env": []}}}, ("'env'", "an array")),
        ({"mcpServers": {"s": {"command": "c", "env": {"A": 1}}}}, ("'env.A'", "a number")),
        ({"mcpServers": {"s": {"url": "u", "headers": {"H": None}}}}, ("'headers.H'", "null")),
        ({"mcpServers": {"s": {"command": "c", "timeout": 0}}}, ("'timeout'", "positive")),
        ({"mcpServers": {"s": {"command": "c", "timeout": True}}}, ("'timeout'",)),
        ({"mcpServers": {"s": {"disabled": "yes"}}}, ("'disabled'", "true or false")),
    ],
)
def test_validation_errors_say_where(data: Any, fragments: tuple[str, ...]) -> None:
    fails(data, *fragments)


# ---- to_client -----------------------------------------------------------------------------


def test_stdio_entry_builds_a_client() -> None:
    config = one({"command": sys.executable, "args": ["-V"], "env": {"A": "1"}, "timeout": 5})
    client = config.to_client(env={"A": "0", "B": "2"}, cwd="/tmp", timeout=60)
    assert isinstance(client, Client)
    assert client.timeout == 5.0
    assert client._target == [sys.executable, "-V"]
    assert client._env == {"A": "1", "B": "2"}
    assert client._cwd == "/tmp"
    assert one({"command": "c"}).to_client()._env is None


def test_http_entries_build_a_url_client_with_headers() -> None:
    config = one({"type": "http", "url": "https://example.com/mcp", "headers": {"X-A": "1"}})
    client = config.to_client(headers={"X-B": "2"})
    assert client._target == "https://example.com/mcp"
    assert client._headers == {"X-B": "2", "X-A": "1"}
