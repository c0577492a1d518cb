"""Streamable HTTP for `Server`: one ASGI endpoint serving both protocol eras (plus the old
HTTP+SSE transport's two endpoints, for 2024-11-05 clients).

Layer: server (the HTTP binding of the server); may import transports, protocol and peer.
Nothing imports this module at `import mcpkit` time: uvicorn is loaded only by `serve_http`,
and the app itself is raw ASGI (no starlette needed, though it mounts in Starlette/FastAPI).

```python
app = http_app(server)                  # mount anywhere: Mount("/", app=app)
await serve_http(server, port=8000)     # or run it with uvicorn yourself
```

How a request is routed (spec 2026-07-28 basic/versioning, "dual-era server"):
- a POST whose body's `params._meta` names a protocol version, or whose
  `MCP-Protocol-Version` header is a modern version, is a **modern** single exchange
  (`http_exchange.py`), with its `Mcp-*` headers checked against the body (`http_headers.py`);
- a POST of `initialize` starts a **legacy session**; every other POST, GET and DELETE
  belongs to the session named by `Mcp-Session-Id` (`http_sessions.py`);
- GET and DELETE without a session id are 405 (the modern endpoint is POST-only).

Beside it, by default, `GET /sse` and `POST /messages/` serve the 2024-11-05 "HTTP with SSE"
transport (`http_sse_legacy.py`), as spec 2025-03-26 basic/transports "Backwards
Compatibility" suggests for servers that want older clients. The same Host/Origin checks and
body limit apply to every path.

Long-lived state (legacy sessions, the idle reaper, the server's lifespan) lives in one
background task group, the hub. It starts with the ASGI lifespan when the host sends one, or
lazily on the first request (asyncio only) when mounted where lifespans do not reach;
`await app.aclose()` stops it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import anyio
import msgspec
from anyio.abc import TaskGroup

from mcpkit._runtime import settle
from mcpkit.auth.caller import current_access
from mcpkit.auth.resource import ResourceServer
from mcpkit.protocol.context import PROTOCOL_VERSION
from mcpkit.protocol.errors import INVALID_REQUEST, PARSE_ERROR
from mcpkit.server.http_auth import Guard
from mcpkit.server.http_legacy import LegacyEndpoint, SSEOptions
from mcpkit.server.http_modern import ModernEndpoint
from mcpkit.server.http_responses import (
    Message,
    Receive,
    Scope,
    Send,
    error_body,
    header_map,
    send_empty,
    send_json,
)
from mcpkit.server.http_security import host_allowed, is_loopback, origin_allowed
from mcpkit.server.http_sessions import LegacySession, SessionManager
from mcpkit.server.http_sse_legacy import SSEEndpoint, SSESession
from mcpkit.server.server import Server
from mcpkit.stores.events import EventStore, MemoryEventStore

__all__ = ["HTTPSettings", "MCPHTTPApp", "http_app", "serve_http"]

MiB: Final = 1024 * 1024
_MCP, _SSE, _MESSAGES = "mcp", "sse", "messages"  # the endpoints `_route` tells apart


@dataclass(frozen=True, slots=True)
class HTTPSettings:
    """How the endpoint behaves. See `http_app` for the meaning of each field."""

    path: str = "/mcp"
    json_response: bool = False
    allowed_hosts: tuple[str, ...] | None = None
    allowed_origins: tuple[str, ...] | None = None
    max_body: int = 4 * MiB
    session_ttl: float = 30 * 60.0
    max_sessions: int = 1000
    event_store: EventStore | None = None
    retry_ms: int = 1000
    sse_keepalive: float = 15.0
    sse_poll: Callable[[dict[str, Any]], bool] | None = None
    sse_path: str | None = "/sse"
    messages_path: str | None = "/messages/"
    auth: ResourceServer | None = None


class _Hub:
    """The background task group for what outlives a request, entered once."""

    def __init__(self, server: Server, *managers: SessionManager[Any]) -> None:
        self.server = server
        self.managers = managers
        self.tg: TaskGroup | None = None
        self._ready = anyio.Event()
        self._stop = anyio.Event()
        self._stopped = anyio.Event()
        self._task: asyncio.Task[None] | None = None

    async def run(self, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        try:
            async with self.server.running(), anyio.create_task_group() as tg:
                self.tg = tg
                for manager in self.managers:
                    tg.start_soon(manager.reap_forever)
                self._ready.set()
                task_status.started()
                await self._stop.wait()
                for manager in self.managers:
                    await manager.end_all()
                tg.cancel_scope.cancel()
        finally:
            self.tg = None
            self._stopped.set()

    @property
    def started(self) -> bool:
        """Whether the hub runs (asked on every request, before `ensure_started`)."""
        return self.tg is not None

    async def ensure_started(self) -> None:
        """Start the hub in the background if nothing did yet."""
        if self.tg is not None:
            return
        if self._task is None and not self._stop.is_set():
            self._task = asyncio.get_running_loop().create_task(self.run())
        with anyio.fail_after(10):
            await self._ready.wait()
        assert self.tg is not None, "the MCP HTTP app was closed"

    async def aclose(self) -> None:
        self._stop.set()
        if self._ready.is_set():
            with anyio.fail_after(10):
                await self._stopped.wait()


class MCPHTTPApp:
    """The ASGI application built by `http_app`. `sessions` is the live legacy Streamable
    HTTP sessions, `sse_sessions` those of the old HTTP+SSE transport (one per GET stream)."""

    def __init__(self, server: Server, settings: HTTPSettings) -> None:
        self.server = server
        self.settings = settings
        store = settings.event_store if settings.event_store is not None else MemoryEventStore()

        def legacy_session(session_id: str, clock: Callable[[], float]) -> LegacySession:
            return LegacySession(session_id, clock, store)

        ttl, cap = settings.session_ttl, settings.max_sessions
        self.sessions = SessionManager(server, legacy_session, ttl=ttl, max_sessions=cap)
        self.sse_sessions = SessionManager(server, SSESession, ttl=ttl, max_sessions=cap)
        self._hub = _Hub(server, self.sessions, self.sse_sessions)
        self._modern = ModernEndpoint(server, json_response=settings.json_response)
        sse = SSEOptions(retry_ms=settings.retry_ms, keepalive=settings.sse_keepalive)
        if settings.sse_poll is not None:
            sse = dataclasses.replace(sse, poll=settings.sse_poll)
        self._legacy = LegacyEndpoint(self.sessions, json_response=settings.json_response, sse=sse)
        self._guard = Guard(settings.auth, settings.path) if settings.auth is not None else None
        self._sse = SSEEndpoint(
            self.sse_sessions,
            messages_path=settings.messages_path or "",
            keepalive=settings.sse_keepalive,
        )
        self._verdicts: dict[tuple[str, str | None, str], tuple[int, bytes] | None] = {}
        # path (trailing slash stripped) → endpoint; the MCP endpoint wins a tie
        self._routes: dict[str, str] = {}
        if settings.sse_path is not None and settings.messages_path is not None:
            self._routes[settings.messages_path.rstrip("/")] = _MESSAGES
            self._routes[settings.sse_path.rstrip("/")] = _SSE
        self._routes[settings.path.rstrip("/")] = _MCP

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def aclose(self) -> None:
        """End every session and the server's lifespan (needed only without ASGI lifespan)."""
        await self._hub.aclose()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        async with anyio.create_task_group() as tg:
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await tg.start(self._hub.run)
                    settle()  # built and about to serve: what lives now lives long
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self._hub.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    def _http(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # (plain functions down to the endpoint's own coroutine: each coroutine frame on
        # the way costs every request its making and unwinding)
        route = self._route(scope)
        guard = self._guard
        if route is None and guard is not None and guard.is_metadata(_route_path(scope)):
            return guard.metadata(scope, header_map(scope), send)
        if route is None:
            return send_json(send, 404, error_body(INVALID_REQUEST, "not found"))
        headers = header_map(scope)
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            return send_json(send, refusal[0], refusal[1])
        if guard is None:
            return self._serve(route, scope, headers, receive, send)
        return self._guarded(guard, route, scope, headers, (receive, send))

    async def _guarded(
        self,
        guard: Guard,
        route: str,
        scope: Scope,
        headers: dict[str, str],
        channel: tuple[Receive, Send],
    ) -> None:
        """Serve a protected endpoint: admitted callers only, their access in context."""
        receive, send = channel
        access = await guard.admit(scope, headers, send)
        if access is None:
            return
        caller = current_access.set(access)  # what `ctx.auth` and session binding read
        try:
            await self._serve(route, scope, headers, receive, send)
        finally:
            current_access.reset(caller)

    def _serve(
        self, route: str, scope: Scope, headers: dict[str, str], receive: Receive, send: Send
    ) -> Awaitable[None]:
        if not self._hub.started:
            return self._serve_once_started(route, scope, headers, receive, send)
        method = scope["method"]
        if route == _SSE:
            return self._sse_stream(method, scope, receive, send)
        if route == _MESSAGES:
            return self._sse_message(method, scope, headers, receive, send)
        return self._mcp(method, scope, headers, (receive, send))

    async def _serve_once_started(
        self, route: str, scope: Scope, headers: dict[str, str], receive: Receive, send: Send
    ) -> None:
        await self._hub.ensure_started()
        await self._serve(route, scope, headers, receive, send)

    def _route(self, scope: Scope) -> str | None:
        """Which endpoint a path names (a trailing slash never matters), or None."""
        return self._routes.get(_route_path(scope).rstrip("/"))

    async def _sse_stream(self, method: str, scope: Scope, receive: Receive, send: Send) -> None:
        if method == "GET":
            await self._sse.get(scope, receive, send)
        else:
            await send_empty(send, 405, [(b"allow", b"GET")])

    async def _sse_message(
        self, method: str, scope: Scope, headers: dict[str, str], receive: Receive, send: Send
    ) -> None:
        if method != "POST":
            await send_empty(send, 405, [(b"allow", b"POST")])
            return
        session = await self._sse.session_of(scope, send)
        if session is None:
            return
        body = await self._body(headers, receive, send)
        if body is None:
            return
        message = _message(body)
        if isinstance(message, dict):
            await self._sse.post(session, body, send)
        else:
            await send_json(send, 400, message)

    def _mcp(
        self,
        method: str,
        scope: Scope,
        headers: dict[str, str],
        channel: tuple[Receive, Send],
    ) -> Awaitable[None]:
        receive, send = channel
        if method == "POST":
            return self._post(scope, headers, receive, send)
        if method in {"GET", "DELETE"} and "mcp-session-id" not in headers:
            return send_empty(send, 405, [(b"allow", b"POST")])
        if method == "GET":
            return self._legacy.get(headers, receive, send)
        if method == "DELETE":
            return self._legacy.delete(headers, send)
        return send_empty(send, 405, [(b"allow", b"GET, POST, DELETE")])

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, bytes] | None:
        """Host (DNS rebinding) and Origin checks, before anything else happens. Verdicts
        are remembered per Host, Origin and bound address: every request asks them, about
        the same few (and a client inventing Hosts cannot grow the memo past its cap)."""
        host = headers.get("host", "")
        origin = headers.get("origin")
        bound = scope.get("server")
        key = (host, origin, str(bound[0]) if bound and bound[0] else "")
        if key in self._verdicts:
            return self._verdicts[key]
        verdict = self._judge(*key)
        if len(self._verdicts) < _VERDICTS_KEPT:
            self._verdicts[key] = verdict
        return verdict

    def _judge(self, host: str, origin: str | None, bound: str) -> tuple[int, bytes] | None:
        loopback = is_loopback(bound) if bound else True
        if not host_allowed(host, self.settings.allowed_hosts, loopback_bind=loopback):
            return 421, error_body(INVALID_REQUEST, f"Host {host!r} is not allowed")
        if origin is not None and not origin_allowed(origin, host, self.settings.allowed_origins):
            return 403, error_body(INVALID_REQUEST, f"Origin {origin!r} is not allowed")
        return None

    async def _post(
        self, scope: Scope, headers: dict[str, str], receive: Receive, send: Send
    ) -> None:
        first = await receive()
        body: bytes = first.get("body", b"")
        if (  # anything but the usual lone chunk within the limit: read it all, check it
            first.get("more_body", False)
            or first["type"] != "http.request"
            or len(body) > self.settings.max_body
        ):
            whole = await self._body(headers, receive, send, first)
            if whole is None:
                return
            body = whole
        message = _message(body)
        if not isinstance(message, dict):
            await send_json(send, 400, message)
            return
        if self._guard is not None and not await self._tool_allowed(message, scope, headers, send):
            return
        if self._is_modern(message, headers):
            await self._modern.post(message, body, headers, receive, send)
        else:
            await self._legacy.post(message, body, headers, send)

    async def _body(
        self,
        headers: dict[str, str],
        receive: Receive,
        send: Send,
        first: Message | None = None,
    ) -> bytes | None:
        """The whole request body (`first`: its first message, if already received); None
        once answered 413, or when the client left mid-body (nobody to answer)."""
        limit = self.settings.max_body
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await send_json(send, 413, _too_large(limit))
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = first if first is not None else await receive()
            first = None
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:  # (a chunked body declares no length)
                await send_json(send, 413, _too_large(limit))
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def _tool_allowed(
        self, message: dict[str, Any], scope: Scope, headers: dict[str, str], send: Send
    ) -> bool:
        """A `tools/call` of a tool registered with `scopes=` needs them (else 403)."""
        access = current_access.get()
        params = message.get("params")
        if message.get("method") != "tools/call" or access is None or not isinstance(params, dict):
            return True
        registered = self.server.tools.get(str(params.get("name")))
        if registered is None or not registered.scopes:
            return True
        assert self._guard is not None
        return await self._guard.allows(access, registered.scopes, scope, headers, send)

    def _is_modern(self, message: dict[str, Any], headers: dict[str, str]) -> bool:
        if headers.get("mcp-protocol-version", "").strip() in self.server.modern_versions:
            return True
        params = message.get("params")
        meta = params.get("_meta") if isinstance(params, dict) else None
        return "method" in message and isinstance(meta, dict) and PROTOCOL_VERSION in meta


def _message(body: bytes) -> dict[str, Any] | bytes:
    """The body as one JSON-RPC message, or the error body to answer 400 with. (Not a
    coroutine: the usual case has nothing to wait for.)"""
    try:
        message = _decode(body)
    except msgspec.DecodeError:
        return error_body(PARSE_ERROR, "invalid JSON")
    if not isinstance(message, dict):
        reason = "the body must be one JSON-RPC message (batches are not supported)"
        return error_body(INVALID_REQUEST, reason)
    return message


_decode = msgspec.json.Decoder().decode

_VERDICTS_KEPT: Final = 256


def _too_large(limit: int) -> bytes:
    return error_body(INVALID_REQUEST, f"request body over {limit} bytes")


def _route_path(scope: Scope) -> str:
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def http_app(
    server: Server,
    path: str = "/mcp",
    *,
    json_response: bool = False,
    allowed_hosts: list[str] | tuple[str, ...] | None = None,
    allowed_origins: list[str] | tuple[str, ...] | None = None,
    max_body: int = 4 * MiB,
    session_ttl: float = 30 * 60.0,
    max_sessions: int = 1000,
    event_store: EventStore | None = None,
    retry_ms: int = 1000,
    sse_keepalive: float = 15.0,
    sse_poll: Callable[[dict[str, Any]], bool] | None = None,
    sse_path: str | None = "/sse",
    messages_path: str | None = "/messages/",
    auth: ResourceServer | None = None,
) -> MCPHTTPApp:
    """The ASGI app serving `server` over Streamable HTTP (both eras) at `path`, and over the
    2024-11-05 HTTP+SSE transport at `sse_path` and `messages_path`.

    Args:
        server: what to serve.
        path: the endpoint, relative to where the app is mounted.
        json_response: answer requests with one JSON body, never an SSE stream.
        allowed_hosts: `Host` values to serve (`name` or `name:port`; `"*"` for any). Default:
            loopback names only when bound to a loopback address, anything otherwise.
        allowed_origins: `Origin` values to serve (`"*"` for any). Default: loopback origins
            and the server's own. Requests without `Origin` are always served.
        max_body: the largest request body, in bytes (413 beyond).
        session_ttl: seconds a legacy session may sit idle before it is reclaimed.
        max_sessions: the most legacy sessions at once, per transport (503 beyond).
        event_store: where legacy SSE events are kept for `Last-Event-ID` resumption
            (default: a `MemoryEventStore`, per process; see its bounds).
        retry_ms: the `retry:` (milliseconds) sent with each stream's priming event.
        sse_keepalive: idle seconds before an SSE stream gets a `: ping` comment.
        sse_poll: `sse_poll(request)` true closes that legacy request's SSE stream right
            after its priming event (SSE polling); the client resumes it with a GET.
            Default: the server's own `sse_poll`.
        sse_path / messages_path: the old HTTP+SSE transport's stream (GET) and message
            (POST) endpoints, relative to the mount; None for either turns that transport off.
        auth: protect the endpoints with OAuth access tokens (`mcpkit.auth.ResourceServer`):
            401/403 with `WWW-Authenticate`, protected-resource metadata at
            `/.well-known/oauth-protected-resource<path>`, the caller in `ctx.auth`.
    """
    old_transport = sse_path is not None and messages_path is not None
    settings = HTTPSettings(
        path="/" + path.strip("/"),
        json_response=json_response,
        allowed_hosts=None if allowed_hosts is None else tuple(allowed_hosts),
        allowed_origins=None if allowed_origins is None else tuple(allowed_origins),
        max_body=max_body,
        session_ttl=session_ttl,
        max_sessions=max_sessions,
        event_store=event_store,
        retry_ms=retry_ms,
        sse_keepalive=sse_keepalive,
        sse_poll=sse_poll if sse_poll is not None else server.sse_poll,
        sse_path="/" + sse_path.strip("/") if old_transport and sse_path else None,
        messages_path="/" + messages_path.lstrip("/") if old_transport and messages_path else None,
        auth=auth,
    )
    return MCPHTTPApp(server, settings)


async def serve_http(
    server: Server, host: str = "127.0.0.1", port: int = 8000, **app_kw: Any
) -> None:
    """Serve `server` over Streamable HTTP with uvicorn until cancelled or interrupted.

    `app_kw` goes to `http_app` (path, json_response, allowed_hosts, ...).
    """
    import uvicorn

    app = http_app(server, **app_kw)
    config = uvicorn.Config(app, host=host, port=port, lifespan="on", log_level="warning")
    try:
        await uvicorn.Server(config).serve()
    finally:
        await app.aclose()
