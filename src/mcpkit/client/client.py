"""`Client`: connects to one MCP server, negotiates the era, and sends requests.

Layer: client (above protocol, transports and peer).

Era negotiation (spec: basic/transports/stdio, "Backward Compatibility"): the client first
sends `server/discover` with its preferred modern version in `_meta`.
- a `DiscoverResult` → modern: pick the newest common version;
- `-32022` naming a version we speak → modern, retry with it (no fallback);
- any other error, or no answer within `probe_timeout` → legacy: `initialize`.
The fallback never depends on one particular error code.

A URL is Streamable HTTP unless `transport="sse"` names the old 2024-11-05 HTTP+SSE
transport. With `transport="auto"` (and an era that may be legacy), a URL whose POSTs are
refused with 400, 404 or 405 while negotiating is retried once over HTTP+SSE (spec 2025-03-26
basic/transports, "Backwards Compatibility"); if the GET there opens no such stream, the
first failure stands. HTTP+SSE carries the legacy era only: `initialize`, no probe.
"""

from __future__ import annotations

import contextlib
import logging
import shlex
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

import anyio
import msgspec
from anyio.abc import TaskGroup

from mcpkit._version import __version__
from mcpkit.client.cache import ResultCache
from mcpkit.client.features import Features
from mcpkit.client.handlers import Handlers, maybe_await
from mcpkit.client.subscriptions import Filter, Subscription, listen, route
from mcpkit.peer import DEFAULT_MAX_TIMEOUT, DEFAULT_TIMEOUT, Peer, ProgressHandler
from mcpkit.protocol.connection import Connection
from mcpkit.protocol.context import (
    CLIENT_CAPABILITIES,
    CLIENT_INFO,
    LOG_LEVEL,
    PROTOCOL_VERSION,
    SERVER_INFO,
)
from mcpkit.protocol.errors import (
    ConnectError,
    RequestTimeout,
    RPCError,
    TransportError,
    UnsupportedProtocolVersion,
)
from mcpkit.protocol.events import NotificationReceived, RequestReceived
from mcpkit.protocol.types import (
    DiscoverResult,
    InitializeResult,
)
from mcpkit.protocol.versions import (
    LATEST_LEGACY,
    LEGACY_VERSIONS,
    MODERN_VERSIONS,
    Era,
    pick_modern,
)
from mcpkit.transports.base import Transport
from mcpkit.transports.memory import memory_pair

if TYPE_CHECKING:
    from mcpkit.transports.http import HttpAuth, HttpClientTransport

__all__ = ["Client", "EraChoice", "Servable", "TransportChoice"]

_LEGACY: Final = Era.LEGACY  # (hot-path aliases: see `Era`)
_MODERN: Final = Era.MODERN
_NOT_CONNECTED = "the client is not connected; use `async with Client(...)`"

_log = logging.getLogger("mcpkit.client")

EraChoice = Literal["auto", "legacy", "modern"]
TransportChoice = Literal["auto", "http", "sse"]


class Servable(Protocol):
    """Anything that can serve a transport in-process (an `mcpkit.Server`)."""

    async def serve(self, transport: Transport) -> None: ...


class Client(Features):
    """An MCP client for one server; use it as an async context manager.

    Args:
        target: a `Transport`, an in-process server (anything with `serve(transport)`), an
            `http://`/`https://` URL (Streamable HTTP, or HTTP+SSE: see `transport`), or a
            command to spawn over stdio (a string, split like a shell would, or an argv list).
        env / cwd: for a spawned command (env is merged into this process's environment).
        headers: HTTP headers sent with every request to a URL target (e.g. Authorization).
        auth: OAuth for a URL target (`mcpkit.auth.OAuth`): on the server's first 401 it
            finds the authorization server, gets a token, and the request goes again.
        era: "auto" negotiates; "legacy" or "modern" forces one.
        transport: for a URL: "http" (Streamable HTTP), "sse" (the 2024-11-05 HTTP+SSE
            transport; legacy era only), or "auto": Streamable HTTP, falling back to
            HTTP+SSE when the URL refuses it (see the module docstring).
        timeout: default seconds to wait for an answer; progress restarts it.
        max_timeout: default absolute cap on any request, progress or not.
        probe_timeout: seconds to wait for the `server/discover` probe before assuming legacy.
        start_timeout: seconds for a spawned server to answer at all.
        handlers: how the client answers a server's asks (sampling, elicitation, roots) and
            what it does with what the server reports (logs, progress, changes); the declared
            capabilities follow from it unless `capabilities` is given. A plain mapping of
            method → `async (params) -> result` is accepted for custom methods.
        on_notification: called with `(method, params)` for every notification the server
            sends (after the handlers' listeners).
    """

    def __init__(
        self,
        target: Transport | Servable | str | Sequence[str],
        *,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        headers: Mapping[str, str] | None = None,
        auth: HttpAuth | None = None,
        name: str = "mcpkit",
        version: str = __version__,
        capabilities: dict[str, Any] | None = None,
        era: EraChoice = "auto",
        transport: TransportChoice = "auto",
        timeout: float = DEFAULT_TIMEOUT,
        max_timeout: float = DEFAULT_MAX_TIMEOUT,
        probe_timeout: float = 10.0,
        start_timeout: float = 30.0,
        handlers: Handlers | Mapping[str, Callable[[Any], Awaitable[Any]]] | None = None,
        on_notification: Callable[[str, Any], Awaitable[None]] | None = None,
    ) -> None:
        if transport == "sse" and era == "modern":
            raise ValueError("the HTTP+SSE transport carries the legacy era only")
        if handlers is None or isinstance(handlers, Handlers):
            self.handlers = handlers or Handlers()
        else:
            self.handlers = Handlers(extra=dict(handlers))
        self._on_notification_cb = on_notification
        self.cache = ResultCache()
        self._subscriptions: list[Subscription] = []
        self.log_level: str | None = None
        self._output_schemas = {}
        self._header_params: dict[str, dict[str, str]] = {}
        self._target = target
        self._env = env
        self._cwd = cwd
        self._headers = headers
        self._auth = auth
        self.info = {"name": name, "version": version}
        self.capabilities: dict[str, Any] = (
            self.handlers.capabilities() if capabilities is None else capabilities
        )
        self._era_choice = era
        self._transport_choice = transport
        self._over_sse = False  # the old HTTP+SSE transport: legacy only, no discover probe
        self.timeout = timeout
        self.max_timeout = max_timeout
        self.probe_timeout = probe_timeout
        self.start_timeout = start_timeout
        self.era: Era | None = None
        self.protocol_version: str | None = None
        self.server_info: dict[str, Any] = {}
        self.server_capabilities: dict[str, Any] = {}
        self.instructions: str | None = None
        self._stack = AsyncExitStack()
        self._peer: Peer | None = None

    # ---- connecting ------------------------------------------------------------------

    async def __aenter__(self) -> Client:
        try:
            await self._connect()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection (and stop a spawned server: stdin, SIGTERM, SIGKILL)."""
        if self._peer is not None:
            await self._peer.aclose()
        await self._stack.aclose()

    async def _connect(self) -> None:
        target = self._target
        if not (isinstance(target, str) and target.startswith(("http://", "https://"))):
            await self._connect_over(await self._open_transport(), self._stack)
        elif self._transport_choice == "sse":
            await self._connect_over(await self._open_sse(target), self._stack)
        elif self._transport_choice == "http" or self._era_choice == "modern":
            await self._connect_over(await self._open_http(target, self._stack), self._stack)
        else:
            await self._connect_or_fall_back(target)

    async def _connect_or_fall_back(self, url: str) -> None:
        """Streamable HTTP; if its POSTs were refused (400/404/405), HTTP+SSE once. The
        first attempt lives in its own exit stack, closed before the second starts."""
        attempt = await self._stack.enter_async_context(AsyncExitStack())
        transport = await self._open_http(url, attempt)
        try:
            await self._connect_over(transport, attempt)
            return
        except (RPCError, TransportError) as exc:
            if not transport.refused():
                raise
            first = exc
        if self._peer is not None:
            await self._peer.aclose()
            self._peer = None
        await attempt.aclose()
        try:
            old = await self._open_sse(url)
        except ConnectError as exc:  # not an old server either: why HTTP failed is the news
            _log.debug("%s offers no HTTP+SSE stream either: %s", url, exc)
            raise first from None
        await self._connect_over(old, self._stack)

    async def _open_http(self, url: str, stack: AsyncExitStack) -> HttpClientTransport:
        from mcpkit.transports.http import http_client  # lazy: skips the HTTP machinery

        transport = http_client(
            url, headers=self._headers, param_headers=self.param_headers, auth=self._auth
        )
        return await stack.enter_async_context(transport)

    async def _open_sse(self, url: str) -> Transport:
        from mcpkit.transports.sse_legacy import sse_client

        transport = sse_client(url, headers=self._headers, timeout=self.start_timeout)
        opened = await self._stack.enter_async_context(transport)
        self._over_sse = True
        return opened

    async def _connect_over(self, transport: Transport, stack: AsyncExitStack) -> None:
        """Run the peer over `transport` (its task group in `stack`) and negotiate."""
        connection = Connection(is_client=True)
        self._peer = Peer(
            connection,
            transport,
            on_request=self._on_request,
            on_notification=self._on_notification,
            timeout=self.timeout,
            max_timeout=self.max_timeout,
        )
        tg: TaskGroup = await stack.enter_async_context(anyio.create_task_group())
        stack.callback(tg.cancel_scope.cancel)
        tg.start_soon(self._peer.run)
        try:
            with anyio.fail_after(self.start_timeout):
                await self._negotiate()
        except (TimeoutError, RequestTimeout):
            waited = f"{self.start_timeout:g}s"
            raise ConnectError(
                f"{transport.describe()} did not answer within {waited}{_diagnose(transport)}"
            ) from None
        except TransportError as exc:
            raise ConnectError(f"could not connect to {transport.describe()}: {exc}") from exc

    async def _open_transport(self) -> Transport:
        target = self._target
        if isinstance(target, str | list | tuple):
            from mcpkit.transports.stdio import stdio_client

            argv = shlex.split(target) if isinstance(target, str) else list(target)

            def report(line: bytes) -> None:
                _log.warning(
                    "%s wrote a non-JSON line to stdout (ignored): %r", argv[0], line[:200]
                )

            spawn = stdio_client(argv[0], argv[1:], env=self._env, cwd=self._cwd, on_junk=report)
            return await self._stack.enter_async_context(spawn)
        if hasattr(target, "serve"):
            ours, theirs = memory_pair()
            tg: TaskGroup = await self._stack.enter_async_context(anyio.create_task_group())
            self._stack.callback(tg.cancel_scope.cancel)
            tg.start_soon(target.serve, theirs)
            return ours
        assert isinstance(target, Transport)
        return target

    async def _negotiate(self) -> None:
        if self._era_choice != "legacy" and not self._over_sse:
            discovered = await self._probe()
            if discovered is not None or self._era_choice == "modern":
                if discovered is None:
                    raise ConnectError("the server does not speak the modern protocol")
                return
        await self._initialize()

    async def _probe(self) -> DiscoverResult | None:
        version = MODERN_VERSIONS[-1]
        for _ in range(2):
            try:
                result: DiscoverResult = await self.peer.request(
                    "server/discover", meta=self._modern_meta(version), timeout=self.probe_timeout
                )
            except UnsupportedProtocolVersion as exc:
                offered = (
                    (exc.data or {}).get("supported", []) if isinstance(exc.data, dict) else []
                )
                retry = pick_modern(offered)
                if retry is None:  # the server speaks no modern version we do
                    return None
                version = retry
                continue
            except (RPCError, RequestTimeout):
                return None
            self._adopt_modern(result)
            return result
        return None

    def _adopt_modern(self, result: DiscoverResult) -> None:
        version = pick_modern(result.supported_versions)
        if version is None:
            raise ConnectError(
                f"no common modern version (server offers {result.supported_versions})"
            )
        self.era = _MODERN
        self.protocol_version = version
        self.server_capabilities = msgspec.to_builtins(result.capabilities)
        self.peer.connection.peer_capabilities = self.server_capabilities
        meta = {} if result.meta is msgspec.UNSET else result.meta
        self.server_info = meta.get(SERVER_INFO) or {}
        self.instructions = None if result.instructions is msgspec.UNSET else result.instructions

    async def _initialize(self) -> None:
        params = {
            "protocolVersion": LATEST_LEGACY,
            "capabilities": self.capabilities,
            "clientInfo": self.info,
        }
        result: InitializeResult = await self.peer.request("initialize", params)
        if result.protocol_version not in LEGACY_VERSIONS:
            raise ConnectError(
                f"the server chose protocol version {result.protocol_version!r}, "
                "which mcpkit does not speak"
            )
        await self.peer.notify("notifications/initialized")
        lifecycle = self.peer.connection.lifecycle
        self.era = _LEGACY
        self.protocol_version = result.protocol_version
        self.server_capabilities = lifecycle.peer_capabilities
        self.server_info = lifecycle.peer_info
        self.instructions = lifecycle.instructions

    def _modern_meta(self, version: str) -> dict[str, Any]:
        return {
            PROTOCOL_VERSION: version,
            CLIENT_CAPABILITIES: self.capabilities,
            CLIENT_INFO: self.info,
        }

    async def _on_request(self, request: RequestReceived) -> Any:
        if request.method == "ping":
            return {}
        return await self.handlers.answer(request.method, request.params)

    def param_headers(self, tool: str) -> dict[str, str]:
        """The `x-mcp-header` arguments of a listed tool (argument → header name): the
        `param_headers` hook of an HTTP transport made outside the client."""
        return self._header_params.get(tool, {})

    def modern_meta(self) -> dict[str, Any]:
        """The `_meta` every modern request of this client carries."""
        base = self._modern_meta(self.protocol_version or MODERN_VERSIONS[-1])
        if self.log_level is not None:
            base[LOG_LEVEL] = self.log_level
        return base

    def listen(
        self,
        *,
        tools: bool = False,
        prompts: bool = False,
        resources: bool = False,
        uris: Sequence[str] = (),
    ) -> contextlib.AbstractAsyncContextManager[Subscription]:
        """Subscribe to the server's change events for the duration of an `async with`;
        iterate the subscription for `ChangeEvent`s. Modern: `subscriptions/listen`;
        legacy: `resources/subscribe` plus the session's notifications."""
        return listen(self, Filter(tools, prompts, resources, tuple(uris)))

    async def _on_notification(self, event: NotificationReceived) -> None:
        method, params = event.method, event.params
        route(self, method, params)
        handlers = self.handlers
        if method == "notifications/message" and handlers.on_log is not None:
            await maybe_await(handlers.on_log(params))
        elif method.endswith("/list_changed") and method != "notifications/roots/list_changed":
            kind = method.split("/")[1]
            self.cache.invalidate(kind)
            if handlers.on_list_changed is not None:
                await maybe_await(handlers.on_list_changed(kind))
        elif method == "notifications/resources/updated":
            self.cache.invalidate("resource", params.uri)
            if handlers.on_resource_updated is not None:
                await maybe_await(handlers.on_resource_updated(params.uri))
        if self._on_notification_cb is not None:
            await self._on_notification_cb(method, params)

    async def cached_request(self, method: str, params: Any = None) -> Any:
        """A request whose modern result may be served from the cache while fresh."""
        if self.era is not _MODERN:
            return await self.request(method, params)
        cached = self.cache.get(method, params)
        if cached is not None:
            return cached
        result = await self.request(method, params)
        self.cache.put(method, params, result)
        return result

    async def roots_changed(self) -> None:
        """Tell a legacy server the roots changed (modern servers ask each time)."""
        if self.era is _LEGACY:
            await self.peer.notify("notifications/roots/list_changed")

    # ---- requests --------------------------------------------------------------------

    @property
    def peer(self) -> Peer:
        if self._peer is None:
            raise ConnectError(_NOT_CONNECTED)
        return self._peer

    def request(
        self,
        method: str,
        params: Any = None,
        *,
        timeout: float | None = None,
        max_timeout: float | None = None,
        meta: dict[str, Any] | None = None,
        on_progress: ProgressHandler | None = None,
    ) -> Coroutine[Any, Any, Any]:
        """Send any request in the negotiated era (modern: `_meta` stamped) and return its
        typed result: a coroutine to await (the peer's own: no frame of this method's on the
        path of every call). `meta` adds `_meta` keys (e.g. a modern per-request log level);
        `on_progress` asks for progress and is called with each `ProgressReceived`.

        Raises:
            RPCError: the server answered with an error.
            RequestTimeout: no answer within `timeout` (default: the client's).
            TransportError: the connection broke.
        """
        if self.era is _MODERN:
            meta = {**self.modern_meta(), **(meta or {})}
        peer = self._peer  # (`self.peer`, without a property call on every request)
        if peer is None:
            raise ConnectError(_NOT_CONNECTED)
        return peer.request(
            method,
            params,
            meta=meta,
            timeout=timeout,
            max_timeout=max_timeout,
            on_progress=on_progress or self.handlers.on_progress,
        )

    async def ping(self, *, timeout: float | None = None) -> None:
        """Check the server answers: `ping` (legacy), or `server/discover` (modern has no ping)."""
        if self.era is _MODERN:
            await self.request("server/discover", timeout=timeout)
        else:
            await self.request("ping", timeout=timeout)


def _diagnose(transport: Transport) -> str:
    code = getattr(transport, "returncode", None)
    tail_fn = getattr(transport, "stderr_tail", None)
    tail = tail_fn() if callable(tail_fn) else ""
    parts = []
    if code is not None:
        parts.append(f"exit code {code}")
    if tail:
        parts.append(f"stderr:\n{tail}")
    return ("; " + "; ".join(parts)) if parts else ""
