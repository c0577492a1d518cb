"""Server config files: the `mcpServers` / `servers` JSON that MCP hosts read, as `ServerConfig`s.

Layer: client. Pure parsing plus one bridge to `Client` (`ServerConfig.to_client`); it never
imports the server framework. Files are read here, nothing is spawned or fetched.

Hosts agree on the shape but not on the details, so `load_config` accepts the union:

- `{"mcpServers": {...}}` (Claude Desktop, Claude Code, Cursor, the Inspector) and
  `{"servers": {...}, "inputs": [...]}` (VS Code); comments and trailing commas are allowed
  (VS Code's JSONC), anything else that is not JSON is an error with its line and column.
- `type` is `stdio`, `http`, `streamable-http` (the same as `http`) or `sse`. Without one, an
  entry with `command` is stdio; one with `url` is http, or sse when the URL path ends in `/sse`.
- `${VAR}`, `${VAR:-default}` (the default also replaces an empty value, as in a shell),
  `${env:VAR}` and `${workspaceFolder}` are replaced in command, args, env values, cwd, url and
  header values. An undefined variable is an error naming the server, field and variable.
  VS Code's `${input:id}` prompts are interactive, so they are an error here too.
- `"disabled": true` skips the entry (the switch several hosts' files carry); `load_config`
  returns only the enabled servers.
- Unknown keys (the Inspector's `protocolEra`, `roots`, ...) are kept verbatim in `extra`.
- `timeout` is in seconds and becomes the `Client`'s default request timeout.

Every mistake raises `ConfigError` saying where: hosts that fail silently on a stray comma are
the problem this module exists to avoid.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, final
from urllib.parse import urlsplit

from mcpkit.client.client import Client
from mcpkit.protocol.errors import MCPKitError

__all__ = ["ConfigError", "ServerConfig", "TransportKind", "load_config"]

TransportKind = Literal["stdio", "http", "sse"]

_TYPES: dict[str, TransportKind] = {
    "stdio": "stdio",
    "http": "http",
    "streamable-http": "http",
    "sse": "sse",
}
_KNOWN_KEYS = frozenset({"type", "command", "args", "env", "cwd", "url", "headers", "timeout"})
_TABLES = ("mcpServers", "servers")
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# JSONC: skip strings, blank out comments; then drop commas before a closing bracket.
_COMMENT = re.compile(r'("(?:[^"\\\n]|\\.)*")|(//[^\n]*|/\*.*?\*/)', re.DOTALL)
_TRAILING_COMMA = re.compile(r'("(?:[^"\\\n]|\\.)*")|,(?=\s*[}\]])')


class ConfigError(MCPKitError):
    """A server config file or entry is invalid; the message says which server and field."""


@final
@dataclass(frozen=True)
class ServerConfig:
    """One server entry of a config file, variables already substituted.

    Attributes:
        name: the key the entry had in the file.
        transport: "stdio" (spawn `command`), "http" (Streamable HTTP) or "sse" (legacy).
        command / args / env / cwd: how to spawn a stdio server; `env` is added to ours.
        url / headers: where a remote server lives and what to send with every request.
        timeout: default seconds per request, or None for the Client's default.
        extra: every other key of the entry, untouched (e.g. `protocolEra`, `disabled`).
    """

    name: str
    transport: TransportKind = "stdio"
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_client(self, **client_kwargs: Any) -> Client:
        """A `Client` for this server (not connected yet: use `async with`).

        `client_kwargs` go to `Client`; this entry's own settings win over them (`env` is
        merged, the entry's keys on top; `cwd` and `timeout` replace theirs when set).

        A URL entry's `headers` are merged over a `headers` keyword the same way. An sse
        entry speaks the 2024-11-05 HTTP+SSE transport (legacy era only); an http entry
        Streamable HTTP, falling back to HTTP+SSE if the URL turns out to be an old server.
        """
        options = dict(client_kwargs)
        if self.timeout is not None:
            options["timeout"] = self.timeout
        if self.transport != "stdio":
            assert self.url is not None  # load_config guarantees it for URL entries
            headers = {**(options.pop("headers", None) or {}), **self.headers}
            if self.transport == "sse":
                options.update(transport="sse", era="legacy")
            return Client(self.url, headers=headers or None, **options)
        assert self.command is not None  # load_config guarantees it for stdio entries
        env = {**(options.pop("env", None) or {}), **self.env}
        options["env"] = env or None
        if self.cwd is not None:
            options["cwd"] = self.cwd
        return Client([self.command, *self.args], **options)


def load_config(
    source: str | os.PathLike[str] | Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    workspace: str | None = None,
) -> dict[str, ServerConfig]:
    """Read a host config file into `ServerConfig`s, by server name, in file order.

    Args:
        source: a path to a JSON file, JSON text (a string starting with `{`), or the
            already-parsed object.
        environ: the variables `${VAR}` and `${env:VAR}` see (default: `os.environ`).
        workspace: the value of `${workspaceFolder}`; undefined when None.

    Raises:
        ConfigError: the file cannot be read, is not JSON (line and column given), has no
            server table, or an entry is invalid (server and field given).
    """
    data, where = _read(source)
    variables = _Variables(os.environ if environ is None else environ, workspace)
    servers: dict[str, ServerConfig] = {}
    for name, entry in _entries(data, where):
        if _is_disabled(name, entry, where):
            continue
        servers[name] = _parse_entry(name, entry, variables, where)
    return servers


# ---- reading ---------------------------------------------------------------------------


def _read(source: str | os.PathLike[str] | Mapping[str, Any]) -> tuple[Any, str]:
    if not isinstance(source, str | os.PathLike):
        return source, "config"  # already parsed; _entries checks its shape
    if isinstance(source, str) and source.lstrip()[:1] in ("{", "["):
        return _parse_json(source, "config text"), "config text"
    path = Path(source).expanduser()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {str(path)!r}: {exc}") from exc
    return _parse_json(text, str(path)), str(path)


def _parse_json(text: str, where: str) -> Any:
    try:
        return json.loads(_strip_jsonc(text))
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{where}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc


def _strip_jsonc(text: str) -> str:
    """Blank out comments and trailing commas, keeping every other character where it was
    (so JSON error positions still point into the original text)."""

    def blank(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return match.group(1)
        return re.sub(r"[^\n]", " ", match.group(0))

    return _TRAILING_COMMA.sub(blank, _COMMENT.sub(blank, text))


def _entries(data: Any, where: str) -> list[tuple[str, Any]]:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: the top level must be a JSON object")
    tables = [key for key in _TABLES if key in data]
    if not tables:
        raise ConfigError(f"{where}: no 'mcpServers' (or VS Code 'servers') object found")
    entries: dict[str, Any] = {}
    for key in tables:
        table = data[key]
        if not isinstance(table, Mapping):
            raise ConfigError(f"{where}: {key!r} must be an object of servers by name")
        for name, entry in table.items():
            if name in entries:
                raise ConfigError(f"{where}: server {name!r} is defined twice")
            entries[name] = entry
    return list(entries.items())


def _is_disabled(name: str, entry: Any, where: str) -> bool:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: server {name!r}: the entry must be an object")
    disabled = entry.get("disabled", False)
    if not isinstance(disabled, bool):
        raise ConfigError(f"{where}: server {name!r}, field 'disabled': must be true or false")
    return disabled


# ---- one entry -------------------------------------------------------------------------


def _parse_entry(
    name: str, entry: Mapping[str, Any], variables: _Variables, where: str
) -> ServerConfig:
    field_ = _FieldReader(name, entry, variables, where)
    command = field_.string("command")
    url = field_.string("url")
    transport = _transport(field_, command, url)
    if transport == "stdio" and command is None:
        raise field_.error("command", "a stdio server needs a command")
    if transport != "stdio" and url is None:
        raise field_.error("url", f"an {transport} server needs a url")
    return ServerConfig(
        name=name,
        transport=transport,
        command=command,
        args=field_.strings("args"),
        env=field_.table("env"),
        cwd=field_.string("cwd"),
        url=url,
        headers=field_.table("headers"),
        timeout=field_.seconds("timeout"),
        extra={key: value for key, value in entry.items() if key not in _KNOWN_KEYS},
    )


def _transport(field_: _FieldReader, command: str | None, url: str | None) -> TransportKind:
    kind = field_.raw("type")
    if kind is not None:
        if not isinstance(kind, str) or kind not in _TYPES:
            allowed = ", ".join(_TYPES)
            raise field_.error("type", f"{kind!r} is not one of {allowed}")
        return _TYPES[kind]
    if command is not None:
        return "stdio"
    if url is not None:
        return "sse" if urlsplit(url).path.rstrip("/").endswith("/sse") else "http"
    raise field_.error("command", "the entry needs a command (stdio) or a url (http, sse)")


class _FieldReader:
    """Reads, type-checks and substitutes the fields of one entry; errors say where."""

    def __init__(
        self, name: str, entry: Mapping[str, Any], variables: _Variables, where: str
    ) -> None:
        self.name, self.entry, self.variables, self.where = name, entry, variables, where

    def error(self, field_name: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.where}: server {self.name!r}, field {field_name!r}: {problem}")

    def raw(self, key: str) -> Any:
        return self.entry.get(key)

    def expand(self, field_name: str, value: str) -> str:
        try:
            return self.variables.expand(value)
        except _Undefined as exc:
            raise self.error(field_name, str(exc)) from None

    def string(self, key: str) -> str | None:
        value = self.entry.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, not {_json_type(value)}")
        return self.expand(key, value)

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.entry.get(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.error(key, f"must be an array of strings, not {_json_type(value)}")
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise self.error(f"{key}[{index}]", f"must be a string, not {_json_type(item)}")
        return tuple(self.expand(f"{key}[{i}]", item) for i, item in enumerate(value))

    def table(self, key: str) -> dict[str, str]:
        value = self.entry.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.error(key, f"must be an object of strings, not {_json_type(value)}")
        for name, item in value.items():
            if not isinstance(item, str):
                raise self.error(f"{key}.{name}", f"must be a string, not {_json_type(item)}")
        return {name: self.expand(f"{key}.{name}", item) for name, item in value.items()}

    def seconds(self, key: str) -> float | None:
        value = self.entry.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self.error(key, f"must be a positive number of seconds, not {value!r}")
        return float(value)


def _json_type(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    names.update({list: "an array", dict: "an object", type(None): "null"})
    return names.get(type(value), type(value).__name__)


# ---- variables -------------------------------------------------------------------------


class _Undefined(Exception):
    """A `${...}` reference with no value; the message names the variable."""


class _Variables:
    """Replaces `${VAR}`, `${VAR:-default}`, `${env:VAR}` and `${workspaceFolder}`."""

    def __init__(self, environ: Mapping[str, str], workspace: str | None) -> None:
        self.environ = environ
        self.workspace = workspace

    def expand(self, text: str) -> str:
        return _VARIABLE.sub(lambda match: self._value(match.group(1)), text)

    def _value(self, reference: str) -> str:
        name, has_default, default = reference.partition(":-")
        if name.startswith("input:"):
            raise _Undefined(
                f"${{{reference}}} asks for VS Code input {name[6:]!r}; interactive inputs "
                "are not supported, put the value in the file or use ${env:VAR}"
            )
        value = self._lookup(reference, name)
        if value:
            return value
        if has_default:
            return default
        if value is None:
            raise _Undefined(_undefined_message(name))
        return value

    def _lookup(self, reference: str, name: str) -> str | None:
        if name == "workspaceFolder":
            return self.workspace
        variable = name.removeprefix("env:")
        if not _ENV_NAME.fullmatch(variable):
            raise _Undefined(f"${{{reference}}} is not a supported variable")
        return self.environ.get(variable)


def _undefined_message(name: str) -> str:
    if name == "workspaceFolder":
        return "${workspaceFolder} is used but no workspace folder was given"
    variable = name.removeprefix("env:")
    return (
        f"environment variable {variable!r} is not set "
        f"(write ${{{name}:-default}} to fall back to a default)"
    )
