"""`ClientGroup`: many MCP servers at once, their tools under one collision-free namespace.

Layer: client. Built on `Client` and `ServerConfig`; never imports the server framework.

A host talks to several servers and hands all their tools to one LLM. Three things go wrong
without care, and this module handles each:

- One dead server must not take the others down: servers connect in parallel, each in its own
  task; a failure lands in `group.failures` with its message (a stdio server's stderr tail
  included), and no `ExceptionGroup` ever leaves the group.
- Two servers both have `search`: tool names are prefixed with their server.
- LLM providers accept only `^[a-zA-Z0-9_-]{1,64}$`: names are sanitized and shortened.

How names are made (`exposed_name`, `ToolNames`):
1. The plain name is `<server>__<tool>`, every character outside `[a-zA-Z0-9_-]` replaced by
   `_` (so `github`/`create_issue` → `github__create_issue`).
2. If the plain name is at most 64 characters and not yet taken, it is the name.
3. Otherwise it is cut to 55 characters and `_` plus 8 hex digits of a SHA-256 over
   `[server, tool, attempt]` is appended; `attempt` counts up from 0 until the name is free.
4. `ToolNames` names the pairs whose plain name is exact (nothing replaced, short enough)
   first, then the rest, each group in the order given (config order, then the server's own
   order). So a tool whose name survives intact keeps its plain name whenever it can, and the
   same servers and tools always give the same names.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, final

import anyio
import anyio.abc

from mcpkit.client.client import Client, Servable
from mcpkit.client.config import ConfigError, ServerConfig, load_config
from mcpkit.protocol.errors import ConnectError
from mcpkit.protocol.types import CallToolResult, Tool
from mcpkit.transports.base import Transport

__all__ = [
    "MAX_NAME_LENGTH",
    "ClientGroup",
    "ClientTarget",
    "GroupTool",
    "ToolNames",
    "exposed_name",
]

MAX_NAME_LENGTH = 64
_SEPARATOR = "__"
_DIGEST_LENGTH = 8
_OUTSIDE = re.compile(r"[^A-Za-z0-9_-]")

ClientTarget = Transport | Servable | str | Sequence[str]


# ---- naming ----------------------------------------------------------------------------


def _plain_name(server: str, tool: str) -> str:
    return _OUTSIDE.sub("_", server) + _SEPARATOR + _OUTSIDE.sub("_", tool)


def _is_exact(server: str, tool: str) -> bool:
    plain = _plain_name(server, tool)
    return len(plain) <= MAX_NAME_LENGTH and plain == f"{server}{_SEPARATOR}{tool}"


def _digest(server: str, tool: str, attempt: int) -> str:
    key = json.dumps([server, tool, attempt]).encode("ascii")
    return hashlib.sha256(key).hexdigest()[:_DIGEST_LENGTH]


def exposed_name(server: str, tool: str, taken: Collection[str]) -> str:
    """The LLM-facing name for `tool` of `server`, avoiding every name in `taken`.

    Pure and deterministic; the result always matches `^[a-zA-Z0-9_-]{1,64}$`. The rule is in
    the module docstring.
    """
    plain = _plain_name(server, tool)
    if len(plain) <= MAX_NAME_LENGTH and plain not in taken:
        return plain
    attempt = 0
    while True:
        suffix = "_" + _digest(server, tool, attempt)
        candidate = plain[: MAX_NAME_LENGTH - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        attempt += 1


@final
class ToolNames:
    """A one-to-one map between (server, tool) pairs and exposed names.

    Args:
        pairs: (server name, tool name) pairs in their natural order; repeats are ignored.
    """

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._pairs: dict[str, tuple[str, str]] = {}
        self._names: dict[tuple[str, str], str] = {}
        unique = list(dict.fromkeys(pairs))
        exact = [pair for pair in unique if _is_exact(*pair)]
        rest = [pair for pair in unique if not _is_exact(*pair)]
        for pair in [*exact, *rest]:
            name = exposed_name(*pair, self._pairs)
            self._pairs[name] = pair
            self._names[pair] = name

    def __len__(self) -> int:
        return len(self._pairs)

    def name(self, server: str, tool: str) -> str:
        """The exposed name of `tool` on `server`.

        Raises:
            KeyError: the pair was not named.
        """
        try:
            return self._names[server, tool]
        except KeyError:
            raise KeyError(f"no tool {tool!r} on server {server!r}") from None

    def resolve(self, exposed: str) -> tuple[str, str]:
        """The (server, tool) pair behind an exposed name.

        Raises:
            KeyError: no tool has that name.
        """
        try:
            return self._pairs[exposed]
        except KeyError:
            raise KeyError(f"no tool is exposed as {exposed!r}") from None


@final
@dataclass(frozen=True)
class GroupTool:
    """A tool of one server in a group: `name` is what the LLM sees, `tool` what the server
    sent (its `tool.name` is what `tools/call` uses)."""

    name: str
    server: str
    tool: Tool


# ---- the group -------------------------------------------------------------------------


@final
class ClientGroup:
    """Connections to many servers; use it as an async context manager.

    Entering connects every server in parallel and returns when each has connected or failed;
    it raises only if the entering task itself is cancelled. Leaving closes them in parallel.

    Args:
        configs: server name → a `ServerConfig`, or anything `Client` accepts as a target
            (an in-process server, a command line, an argv list, a `Transport`).
        client_kwargs: passed to every `Client` (a `ServerConfig`'s own env, cwd and timeout
            win, see `ServerConfig.to_client`).

    Attributes:
        clients: the connected servers' clients, by name.
        failures: why each other server is not there: it failed to connect, broke while
            connected, or (after closing) failed to close; the exception's message says why.
        list_errors: servers left out of the last `list_tools()`, and why.
    """

    def __init__(
        self, configs: Mapping[str, ServerConfig | ClientTarget], **client_kwargs: Any
    ) -> None:
        self._sources = dict(configs)
        self._client_kwargs = client_kwargs
        self.clients: dict[str, Client] = {}
        self.failures: dict[str, Exception] = {}
        self.list_errors: dict[str, Exception] = {}
        self._names = ToolNames()
        self._listed = False
        self._stack = AsyncExitStack()
        self._closing: anyio.Event | None = None

    @classmethod
    def from_config(
        cls,
        source: Any,
        *,
        environ: Mapping[str, str] | None = None,
        workspace: str | None = None,
        **client_kwargs: Any,
    ) -> ClientGroup:
        """A group of every enabled server of a config file (see `load_config`).

        Raises:
            ConfigError: the file or one of its entries is invalid.
        """
        return cls(load_config(source, environ=environ, workspace=workspace), **client_kwargs)

    # ---- connecting and closing ----------------------------------------------------------

    async def __aenter__(self) -> ClientGroup:
        if self._closing is not None:
            raise RuntimeError("a ClientGroup can be entered only once")
        self._closing = anyio.Event()
        try:
            tg = await self._stack.enter_async_context(anyio.create_task_group())
            waiting = [self._launch(tg, name, source) for name, source in self._sources.items()]
            for ready in waiting:
                if ready is not None:
                    await ready.wait()  # bounded: each Client has its start_timeout
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every connection, in parallel; errors go to `failures`, none is raised."""
        if self._closing is not None:
            self._closing.set()
        await self._stack.aclose()
        self.clients.clear()

    def _launch(
        self, tg: anyio.abc.TaskGroup, name: str, source: ServerConfig | ClientTarget
    ) -> anyio.Event | None:
        try:
            if isinstance(source, ServerConfig):
                client = source.to_client(**self._client_kwargs)
            else:
                client = Client(source, **self._client_kwargs)
        except ConfigError as exc:
            self.failures[name] = exc
            return None
        ready = anyio.Event()
        tg.start_soon(self._serve, name, client, ready, name=f"mcpkit server {name!r}")
        return ready

    async def _serve(self, name: str, client: Client, ready: anyio.Event) -> None:
        """Hold one connection open until the group closes (connect and close in one task,
        as anyio's cancel scopes require)."""
        assert self._closing is not None
        try:
            async with client:
                self.clients[name] = client
                ready.set()
                await self._closing.wait()
        except Exception as exc:
            self.clients.pop(name, None)
            self.failures[name] = _leaf(exc)
        finally:
            ready.set()

    # ---- tools ---------------------------------------------------------------------------

    async def list_tools(self) -> list[GroupTool]:
        """Every tool of every connected server, under collision-free names.

        Servers are asked in parallel; one whose listing fails is left out and recorded in
        `list_errors`. The names (and `resolve`) are refreshed by every call.
        """
        listed: dict[str, list[Tool]] = {}
        errors: dict[str, Exception] = {}
        async with anyio.create_task_group() as tg:
            for name, client in list(self.clients.items()):
                tg.start_soon(_list_one, name, client, listed, errors)
        order = [name for name in self._sources if name in listed]
        self._names = ToolNames((server, t.name) for server in order for t in listed[server])
        self.list_errors = errors
        self._listed = True
        tools: dict[str, GroupTool] = {}
        for server in order:
            for tool in listed[server]:
                name = self._names.name(server, tool.name)
                tools.setdefault(name, GroupTool(name, server, tool))
        return list(tools.values())

    def resolve(self, exposed: str) -> tuple[str, str]:
        """The (server, tool name) behind a name from the last `list_tools()`.

        Raises:
            KeyError: no tool has that name.
        """
        return self._names.resolve(exposed)

    async def call_tool(
        self, exposed: str, arguments: dict[str, Any] | None = None
    ) -> CallToolResult:
        """Call a tool by its exposed name on the server it belongs to (listing the tools
        first if that was never done).

        Raises:
            KeyError: no tool has that name.
            ConnectError: its server is no longer connected.
            RPCError, RequestTimeout, TransportError: as `Client.call_tool`.
        """
        if not self._listed:
            await self.list_tools()
        server, tool = self.resolve(exposed)
        client = self.clients.get(server)
        if client is None:
            raise ConnectError(f"server {server!r} (for tool {exposed!r}) is not connected")
        return await client.call_tool(tool, arguments)


async def _list_one(
    name: str, client: Client, listed: dict[str, list[Tool]], errors: dict[str, Exception]
) -> None:
    try:
        listed[name] = await client.list_tools()
    except Exception as exc:
        errors[name] = _leaf(exc)


def _leaf(exc: Exception) -> Exception:
    """The first real error inside (nested) exception groups, so messages stay readable."""
    while isinstance(exc, ExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc
