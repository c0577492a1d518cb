"""`Server`: serves both eras of MCP on any transport.

Layer: server (above protocol, transports and peer). This is the minimal server of the
protocol-core milestone: the lifecycle (`initialize`, `ping`, `server/discover`), low-level
method handlers, and plain tools. The decorator framework (schemas from type hints,
resources, prompts, Context) builds on it.

One handler serves both eras: the `Connection` decides per request whether it is legacy
(in an `initialize` session) or modern (self-describing `_meta`), and this class answers
each in its era's shape (e.g. `server/discover` only exists for modern requests).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import anyio
import anyio.to_thread
import msgspec

from mcpkit._version import __version__
from mcpkit.peer import Peer
from mcpkit.protocol.connection import Connection
from mcpkit.protocol.context import SERVER_INFO
from mcpkit.protocol.errors import InvalidParams, MethodNotFound, ProtocolError, RPCError, ToolError
from mcpkit.protocol.events import ProtocolViolation, RequestReceived
from mcpkit.protocol.types import (
    CallToolResult,
    DiscoverResult,
    Implementation,
    InitializeResult,
    ListToolsResult,
    ServerCapabilities,
    TextContent,
    Tool,
)
from mcpkit.protocol.versions import LEGACY_VERSIONS, MODERN_VERSIONS, Era
from mcpkit.transports.base import Transport

__all__ = ["Server", "Session"]

_log = logging.getLogger("mcpkit.server")

Handler = Callable[["Session", RequestReceived], Awaitable[Any]]
ToolFunction = Callable[[dict[str, Any]], Any]
_EMPTY_SCHEMA: Final = {"type": "object", "properties": {}}


@dataclass(frozen=True, slots=True)
class _ToolEntry:
    tool: Tool
    function: ToolFunction


class Session:
    """One client connection to the server: lets handlers talk back (legacy era)."""

    def __init__(self, server: Server, peer: Peer) -> None:
        self.server = server
        self.peer = peer

    async def ping(self, *, timeout: float | None = None) -> None:
        """Ping the client (legacy sessions only: modern servers never send requests)."""
        await self.peer.request("ping", timeout=timeout)

    async def notify(self, method: str, params: Any = None) -> None:
        await self.peer.notify(method, params)


class Server:
    """An MCP server.

    Args:
        name: the server's name, reported as `serverInfo`.
        version: the server's version, reported as `serverInfo`.
        instructions: guidance for the model about this server.
        legacy_versions / modern_versions: which protocol versions to serve.
        cache_ttl_ms: the `ttlMs` hint on cacheable modern results.
    """

    def __init__(
        self,
        name: str,
        version: str = __version__,
        *,
        instructions: str | None = None,
        legacy_versions: tuple[str, ...] = LEGACY_VERSIONS,
        modern_versions: tuple[str, ...] = MODERN_VERSIONS,
        cache_ttl_ms: int = 0,
    ) -> None:
        self.info = Implementation(name=name, version=version)
        self.instructions = instructions
        self.legacy_versions = legacy_versions
        self.modern_versions = modern_versions
        self.cache_ttl_ms = cache_ttl_ms
        self._handlers: dict[str, Handler] = {
            "initialize": self._initialize,
            "ping": self._ping,
            "server/discover": self._discover,
        }
        self._tools: dict[str, _ToolEntry] = {}

    # ---- registration ----------------------------------------------------------------

    def method(self, name: str) -> Callable[[Handler], Handler]:
        """Register a low-level handler for a request method: `async (session, request)`."""

        def register(handler: Handler) -> Handler:
            self._handlers[name] = handler
            return handler

        return register

    def add_tool(
        self,
        function: ToolFunction,
        *,
        name: str | None = None,
        description: str | None = None,
        input_schema: dict[str, Any] | None = None,
    ) -> None:
        """Add a tool: `function(arguments) -> str | CallToolResult`, sync or async.

        A returned string becomes one text block; raising `ToolError` (or any exception)
        becomes an `isError` result the model can read.
        """
        tool_name = name or function.__name__
        doc = description if description is not None else inspect.getdoc(function)
        tool = Tool(
            name=tool_name,
            description=msgspec.UNSET if doc is None else doc,
            input_schema=input_schema or dict(_EMPTY_SCHEMA),
        )
        self._tools[tool_name] = _ToolEntry(tool, function)
        self._handlers["tools/list"] = self._list_tools
        self._handlers["tools/call"] = self._call_tool

    # ---- what we advertise -----------------------------------------------------------

    def capabilities(self) -> ServerCapabilities:
        """The capabilities implied by what is registered."""
        caps: dict[str, Any] = {}
        if self._tools:
            caps["tools"] = {"listChanged": False}
        return msgspec.convert(caps, ServerCapabilities)

    # ---- serving ---------------------------------------------------------------------

    async def serve(self, transport: Transport) -> None:
        """Serve one connection until the client hangs up."""
        connection = Connection(
            is_client=False,
            legacy_versions=self.legacy_versions,
            modern_versions=self.modern_versions,
        )
        session: Session | None = None

        async def on_request(request: RequestReceived) -> Any:
            assert session is not None
            return await self._dispatch(session, request)

        peer = Peer(connection, transport, on_request=on_request, on_violation=_report)
        session = Session(self, peer)
        try:
            await peer.run()
        finally:
            with anyio.CancelScope(shield=True):
                await transport.aclose()

    async def serve_stdio(self) -> None:
        """Serve over this process's stdin/stdout until stdin closes."""
        from mcpkit.transports.stdio import stdio_server

        async with stdio_server() as transport:
            await self.serve(transport)

    def run(self) -> None:
        """Serve over stdio (blocking): the usual `if __name__ == "__main__": server.run()`."""
        anyio.run(self.serve_stdio)

    async def _dispatch(self, session: Session, request: RequestReceived) -> Any:
        handler = self._handlers.get(request.method)
        if handler is None:
            raise MethodNotFound(f"method not found: {request.method}")
        try:
            return await handler(session, request)
        except (RPCError, ProtocolError):
            raise
        except Exception:  # answered as -32603 without details; the details go to the log
            _log.exception("handler for %s failed", request.method)
            raise

    # ---- built-in handlers -----------------------------------------------------------

    async def _initialize(self, session: Session, request: RequestReceived) -> InitializeResult:
        return InitializeResult(
            protocol_version=request.version,
            capabilities=self.capabilities(),
            server_info=self.info,
            instructions=msgspec.UNSET if self.instructions is None else self.instructions,
        )

    async def _ping(self, session: Session, request: RequestReceived) -> dict[str, Any]:
        return {}

    async def _discover(self, session: Session, request: RequestReceived) -> DiscoverResult:
        return DiscoverResult(
            supported_versions=list(self.modern_versions),
            capabilities=self.capabilities(),
            ttl_ms=self.cache_ttl_ms,
            cache_scope="public",
            instructions=msgspec.UNSET if self.instructions is None else self.instructions,
            meta=self._result_meta(request),
        )

    def _result_meta(self, request: RequestReceived) -> Any:
        if request.era is Era.MODERN:
            return {SERVER_INFO: msgspec.to_builtins(self.info)}
        return msgspec.UNSET

    async def _list_tools(self, session: Session, request: RequestReceived) -> ListToolsResult:
        tools = [entry.tool for entry in self._tools.values()]
        if request.era is Era.MODERN:
            return ListToolsResult(
                tools=tools,
                ttl_ms=self.cache_ttl_ms,
                cache_scope="public",
                meta=self._result_meta(request),
            )
        return ListToolsResult(tools=tools)

    async def _call_tool(self, session: Session, request: RequestReceived) -> CallToolResult:
        params = request.params
        entry = self._tools.get(params.name)
        if entry is None:
            raise InvalidParams(f"unknown tool: {params.name}")
        arguments = {} if params.arguments is msgspec.UNSET else params.arguments
        try:
            outcome = await _call(entry.function, arguments)
        except ToolError as exc:
            result = _error_result(str(exc))
        except Exception as exc:
            _log.exception("tool %s failed", params.name)
            result = _error_result(f"{type(exc).__name__}: {exc}")
        else:
            result = (
                outcome
                if isinstance(outcome, CallToolResult)
                else CallToolResult(content=[TextContent(text=str(outcome))])
            )
        return self._stamped(result, request)

    def _stamped(self, result: CallToolResult, request: RequestReceived) -> CallToolResult:
        """A modern result with `serverInfo` in its `_meta` (spec: SHOULD, every result),
        keeping any `_meta` the tool set itself."""
        stamp = self._result_meta(request)
        if stamp is msgspec.UNSET:
            return result
        own = {} if result.meta is msgspec.UNSET else result.meta
        return msgspec.structs.replace(result, meta={**stamp, **own})


async def _call(function: ToolFunction, arguments: dict[str, Any]) -> Any:
    if inspect.iscoroutinefunction(function):
        return await function(arguments)
    return await anyio.to_thread.run_sync(function, arguments)


def _error_result(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(text=message)], is_error=True)


def _report(violation: ProtocolViolation) -> None:
    _log.warning("bad input from client: %s", violation.error)
