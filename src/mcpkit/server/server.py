"""`Server`: the MCP server framework. Register Python functions; serve both eras.

Layer: server (above protocol, transports and peer).

```python
server = Server("weather")

@server.tool()
async def forecast(city: str, days: int = 3, ctx: Context) -> Forecast:
    "Forecast for a city."
```

One handler serves both eras: the `Connection` decides per request whether it is legacy (an
`initialize` session) or modern (self-describing `_meta`); `handlers.py` answers each
method; this class holds what is registered, stamps what every modern result needs
(`_meta.serverInfo`, `resultType`, caching hints) and runs MRTR rounds (`with_asks`).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Final, TypeVar

import anyio
import msgspec

from mcpkit._version import __version__
from mcpkit.auth.caller import current_access, principal_of
from mcpkit.peer import Peer
from mcpkit.protocol.connection import Connection
from mcpkit.protocol.context import SERVER_INFO, has_capability
from mcpkit.protocol.errors import ClosedError, MethodNotFound
from mcpkit.protocol.events import ProtocolViolation, RequestReceived
from mcpkit.protocol.methods import METHODS
from mcpkit.protocol.sealing import Sealer
from mcpkit.protocol.types import (
    Icon,
    Implementation,
    InputRequest,
    InputRequiredResult,
    ServerCapabilities,
)
from mcpkit.protocol.versions import LEGACY_VERSIONS, MODERN_VERSIONS, Era
from mcpkit.server import handlers
from mcpkit.server.asks import Asks, is_input_required
from mcpkit.server.context import Context
from mcpkit.server.registry import Registry
from mcpkit.server.resources import CachePolicy
from mcpkit.server.session import Change, ChangeBus, Session
from mcpkit.transports.base import Transport

__all__ = ["Server"]

_LEGACY: Final = Era.LEGACY  # (hot-path aliases: see `Era`)
_MODERN: Final = Era.MODERN

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")
Lifespan = Callable[["Server"], contextlib.AbstractAsyncContextManager[Any]]
_log = logging.getLogger("mcpkit.server")


class Server(Registry):
    """An MCP server.

    Args:
        name / version / title / website_url / icons: the server's `serverInfo`.
        instructions: guidance for the model about this server.
        lifespan: `lifespan(server)` → an async context manager entered once while serving;
            what it yields is `ctx.lifespan` in handlers (connection pools, clients...).
        page_size: items per page of every list (None: no pagination).
        cache: the caching hints of modern cacheable results: one policy for all, or one
            per method (`{"tools/list": CachePolicy(60_000), "default": ...}`); a resource's
            own `cache=` wins for its reads.
        extensions: extension identifiers → settings, advertised in the capabilities.
        sealer: protects MRTR `requestState` (default: a fresh random key per process).
        legacy_versions / modern_versions: which protocol versions to serve.
    """

    def __init__(
        self,
        name: str,
        version: str = __version__,
        *,
        title: str | None = None,
        website_url: str | None = None,
        icons: Sequence[Icon | dict[str, Any]] | None = None,
        instructions: str | None = None,
        lifespan: Lifespan | None = None,
        page_size: int | None = None,
        cache: CachePolicy | Mapping[str, CachePolicy] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
        sealer: Sealer | None = None,
        legacy_versions: tuple[str, ...] = LEGACY_VERSIONS,
        modern_versions: tuple[str, ...] = MODERN_VERSIONS,
    ) -> None:
        super().__init__(context_type=Context)
        self.info = Implementation(
            name=name,
            version=version,
            title=msgspec.UNSET if title is None else title,
            website_url=msgspec.UNSET if website_url is None else website_url,
            icons=msgspec.UNSET if not icons else [msgspec.convert(i, Icon) for i in icons],
        )
        self.instructions = instructions
        self.page_size = page_size
        policies = {"default": cache} if isinstance(cache, CachePolicy) else dict(cache or {})
        self._cache = {"default": CachePolicy(), **policies}
        self.extensions = extensions or {}
        self.sealer = sealer or Sealer.generate()
        self.legacy_versions = legacy_versions
        self.modern_versions = modern_versions
        self.bus = ChangeBus()
        self.on_change = self.bus.publish
        self._caps_cache: tuple[tuple[Any, ...], ServerCapabilities, dict[str, Any]] | None = None
        # Legacy HTTP only: `sse_poll(request)` true answers that request by SSE polling (the
        # POST stream closes after its priming event; the client resumes it with a GET).
        self.sse_poll: Callable[[dict[str, Any]], bool] | None = None
        self._lifespan = lifespan
        self._lifespan_users = 0
        self._lifespan_stack: contextlib.AsyncExitStack | None = None
        self.lifespan_state: Any = None
        self._methods: dict[str, Callable[[Session, RequestReceived], Awaitable[Any]]] = {}

    # ---- low level -------------------------------------------------------------------

    def method(self, name: str) -> Callable[[F], F]:
        """Register a handler for any request method: `async (session, request) -> result`.

        It takes precedence over the built-in handler of that method.
        """

        def register(handler: F) -> F:
            self._methods[name] = handler
            return handler

        return register

    # ---- what we advertise -----------------------------------------------------------

    def capabilities(self) -> ServerCapabilities:
        """The capabilities implied by what is registered (and so what is served)."""
        return self._capabilities()[0]

    def _capabilities(self) -> tuple[ServerCapabilities, dict[str, Any]]:
        """The capabilities as a struct and as plain data, rebuilt only when what they
        depend on changes (dispatch consults them on every request)."""
        key = (
            not self.tools,
            not self.prompts,
            not (self.resources or self.templates),
            not self.completers,
            tuple(self.extensions),
        )
        cache = self._caps_cache
        if cache is None or cache[0] != key:
            caps = self._build_capabilities()
            cache = self._caps_cache = (key, caps, msgspec.to_builtins(caps))
        return cache[1], cache[2]

    def _build_capabilities(self) -> ServerCapabilities:
        caps: dict[str, Any] = {"logging": {}}
        if self.tools:
            caps["tools"] = {"listChanged": True}
        if self.prompts:
            caps["prompts"] = {"listChanged": True}
        if self.resources or self.templates:
            caps["resources"] = {"listChanged": True, "subscribe": True}
        if self.prompts or self.templates or self.completers:
            caps["completions"] = {}
        if self.extensions:
            caps["extensions"] = self.extensions
        return msgspec.convert(caps, ServerCapabilities)

    def honoured_filter(self, wanted: Any) -> dict[str, Any]:
        """The part of a `subscriptions/listen` filter this server will honour."""
        caps = self._capabilities()[1]
        honoured: dict[str, Any] = {}
        for kind in ("tools", "prompts", "resources"):
            flag = getattr(wanted, f"{kind}_list_changed", msgspec.UNSET)
            if flag is True and has_capability(caps, (kind, "listChanged")):
                honoured[f"{kind}ListChanged"] = True
        uris = getattr(wanted, "resource_subscriptions", msgspec.UNSET)
        if uris is not msgspec.UNSET and has_capability(caps, ("resources", "subscribe")):
            honoured["resourceSubscriptions"] = list(uris)
        return honoured

    def cache_for(self, method: str) -> CachePolicy:
        """The caching hints for a cacheable method's modern results."""
        return self._cache.get(method) or self._cache["default"]

    def notify_resource_updated(self, uri: str) -> None:
        """Tell subscribed clients that a resource's contents changed."""
        self.bus.publish(Change("resource", uri))

    # ---- serving ---------------------------------------------------------------------

    def running(self) -> contextlib.AbstractAsyncContextManager[Server]:
        """Enter the lifespan (once, however many connections are being served)."""
        return _Running(self)

    async def _enter_lifespan(self) -> None:
        if self._lifespan_users == 0 and self._lifespan is not None:
            stack = contextlib.AsyncExitStack()
            self.lifespan_state = await stack.enter_async_context(self._lifespan(self))
            self._lifespan_stack = stack
        self._lifespan_users += 1

    async def _leave_lifespan(self) -> None:
        self._lifespan_users -= 1
        if self._lifespan_users == 0 and self._lifespan_stack is not None:
            stack, self._lifespan_stack = self._lifespan_stack, None
            with anyio.CancelScope(shield=True):
                await stack.aclose()
            self.lifespan_state = None

    async def serve(self, transport: Transport, *, modern: bool = True) -> None:
        """Serve one connection until the client hangs up. `modern=False` serves the legacy
        era only, for a transport older than the modern era (HTTP+SSE): a modern request is
        answered -32022 naming no version, so a probing client falls back to `initialize`."""
        attached = Attachment(self, transport, modern=modern)
        try:
            async with self.running():
                await attached.peer.run()
        finally:
            attached.detach()
            with anyio.CancelScope(shield=True):
                await transport.aclose()

    def attach(
        self, send: Callable[[bytes], Awaitable[None]], *, modern: bool = True
    ) -> Attachment:
        """A connection with no read loop: its owner feeds it the client's frames
        (`Attachment.feed`, served in the feeding task) and what the server says goes to
        `send`. HTTP sessions are these: an idle one costs a few objects, no task. The
        server's lifespan is the caller's to hold (`running()`); `aclose()` when done."""
        return Attachment(self, _Outbox(send), modern=modern)

    async def serve_one(
        self, frame: bytes, send: Callable[[bytes], Awaitable[None]]
    ) -> bytes | None:
        """Serve exactly one incoming frame in the calling task and return its answer (None
        when none is due); what the server says before it (notifications) goes to `send`.

        This is the modern era's stateless exchange (one HTTP POST): a fresh `Connection`,
        so nothing carries over from one request to the next, but no memory pipe, read loop
        or extra tasks, which a per-request connection would otherwise cost.
        """
        attached = Attachment(self, _Outbox(send), forwarding=False)
        try:
            async with self.running():
                return await attached.answer(frame)
        finally:
            attached.detach()

    async def serve_stdio(self) -> None:
        """Serve over this process's stdin/stdout until stdin closes."""
        from mcpkit.transports.stdio import stdio_server

        async with stdio_server() as transport:
            await self.serve(transport)

    def http_app(self, path: str = "/mcp", **options: Any) -> Any:
        """An ASGI app serving both eras over Streamable HTTP at `path` (mount it anywhere;
        see `mcpkit.server.http.http_app` for the options). Loads the HTTP stack lazily."""
        from mcpkit.server.http import http_app

        return http_app(self, path, **options)

    def run(self) -> None:
        """Serve over stdio (blocking): the usual `if __name__ == "__main__": server.run()`."""
        from mcpkit._runtime import run

        run(self.serve_stdio)

    def _dispatch(self, session: Session, request: RequestReceived) -> Awaitable[Any]:
        """The awaitable result of one request. A legacy result is not stamped, so it is the
        handler's own awaitable: no coroutine frame of ours on the way."""
        custom = self._methods.get(request.method)
        if custom is not None:
            return self._stamped(request, custom(session, request))
        spec = METHODS.get(request.method)
        # (the top level only, a key of the capabilities built here: a sub-capability such
        # as `resources.subscribe` is its handler's to check)
        if (
            spec is not None
            and spec.capability
            and spec.capability[0] not in self._capabilities()[1]
        ):
            raise MethodNotFound(f"method not found: {request.method} (not offered by this server)")
        pending = handlers.handler_for(request.method)(self, session, request)
        if request.era is _LEGACY:
            return pending
        return self._stamped(request, pending)

    async def _stamped(self, request: RequestReceived, pending: Awaitable[Any]) -> Any:
        return self._stamp(request, await pending)

    def _stamp(self, request: RequestReceived, result: Any) -> Any:
        """Modern results: `_meta.serverInfo` (spec: SHOULD on every result) and caching hints
        on cacheable ones (MUST), unless the handler set its own. Structs and dicts alike."""
        if request.era is not _MODERN:
            return result
        spec = METHODS.get(request.method)
        policy = self.cache_for(request.method) if spec is not None and spec.cacheable else None
        info = msgspec.to_builtins(self.info)
        if isinstance(result, dict):
            if result.get("resultType", "complete") != "complete":
                return result
            stamped = {**result, "_meta": {SERVER_INFO: info, **result.get("_meta", {})}}
            if policy is not None and "ttlMs" not in result:
                stamped.update(ttlMs=policy.ttl_ms, cacheScope=policy.scope)
            return stamped
        if not isinstance(result, msgspec.Struct):
            return result
        changes: dict[str, Any] = {}
        fields = result.__struct_fields__
        if "meta" in fields:
            own = result.meta if result.meta is not msgspec.UNSET else {}  # type: ignore[attr-defined]
            changes["meta"] = {SERVER_INFO: info, **own}
        if policy is not None and "ttl_ms" in fields and result.ttl_ms is msgspec.UNSET:  # type: ignore[attr-defined]
            changes.update(ttl_ms=policy.ttl_ms, cache_scope=policy.scope)
        return msgspec.structs.replace(result, **changes) if changes else result

    # ---- MRTR ------------------------------------------------------------------------

    def with_asks(
        self, session: Session, request: RequestReceived, run: Callable[[Context], Awaitable[R]]
    ) -> Awaitable[R | InputRequiredResult]:
        """Run a handler that may ask the client for input (elicitation, sampling, roots);
        await what this returns.

        Legacy: the asks are real requests; the handler just runs (its own awaitable, no
        coroutine around it). Modern: answers come from the retry's `inputResponses` plus
        the sealed `requestState`; a missing answer stops the handler and the result is an
        `InputRequiredResult` (see `asks.py`).

        Raises:
            InvalidRequestState: the `requestState` was tampered with, expired, or made for
                another request (-32602).
        """
        if request.era is _LEGACY:
            return run(Context(self, session, request))
        return self._with_modern_asks(session, request, run)

    async def _with_modern_asks(
        self, session: Session, request: RequestReceived, run: Callable[[Context], Awaitable[R]]
    ) -> R | InputRequiredResult:
        params = request.params
        answers: dict[str, Any] = {}
        state: dict[str, Any] = {}
        sealed = getattr(params, "request_state", msgspec.UNSET)
        if sealed is not msgspec.UNSET:
            opened = self.sealer.open(sealed, now=time.time(), **_sealed_for(request))
            answers, state = dict(opened.get("answers", {})), dict(opened.get("state", {}))
        responses = getattr(params, "input_responses", msgspec.UNSET)
        if responses is not msgspec.UNSET:
            answers.update(msgspec.to_builtins(responses))
        asks = Asks(answers=answers)
        ctx = Context(self, session, request, asks=asks, state=state)
        try:
            return await run(ctx)
        except BaseException as exc:
            if not is_input_required(exc):
                raise
            payload = {"answers": asks.answers, "state": ctx.state}
            token = self.sealer.seal(payload, now=time.time(), **_sealed_for(request))
            requests = msgspec.convert(asks.pending, dict[str, InputRequest])
            return InputRequiredResult(
                result_type="input_required", input_requests=requests, request_state=token
            )


def _sealed_for(request: RequestReceived) -> dict[str, Any]:
    """What a `requestState` is bound to: the method, the tool/prompt name or resource URI,
    and the caller (a state works for its caller only). Worked out only when a state is
    opened or sealed, not for every modern request."""
    params = request.params
    name = getattr(params, "name", None) or getattr(params, "uri", None)
    return {
        "method": request.method,
        "name": name,
        "principal": principal_of(current_access.get()),
    }


class _Running:
    """`Server.running()`: a plain class, not `@asynccontextmanager`, whose generator
    machinery cost every modern (stateless) request a few microseconds."""

    __slots__ = ("_server",)

    def __init__(self, server: Server) -> None:
        self._server = server

    async def __aenter__(self) -> Server:
        await self._server._enter_lifespan()
        return self._server

    async def __aexit__(self, *exc_info: object) -> None:
        await self._server._leave_lifespan()


class Attachment:
    """One client's connection to a `Server`: its protocol state (`peer.connection`), the
    handler-facing `session`, and its place on the change bus. `Server.serve` runs a read
    loop over it; `Server.attach` leaves feeding it to the owner."""

    def __init__(
        self, server: Server, transport: Transport, *, modern: bool = True, forwarding: bool = True
    ) -> None:
        connection = Connection(
            is_client=False,
            legacy_versions=server.legacy_versions,
            modern_versions=server.modern_versions if modern else (),
        )
        self._server = server
        self.peer = Peer(connection, transport, on_request=self._on_request, on_violation=_report)
        self.session = Session(self.peer, forwarding=forwarding)
        self._unsubscribe = server.bus.subscribe(self.session.hear) if forwarding else None

    def _on_request(self, request: RequestReceived) -> Awaitable[Any]:
        return self._server._dispatch(self.session, request)

    async def feed(self, frame: bytes) -> None:
        """Take one frame from the client; a request is served in the calling task."""
        await self.peer.serve_frame(frame)

    def answer(self, frame: bytes) -> Awaitable[bytes | None]:
        """`feed`, but the reply to a request is returned, not sent (`Peer.answer_frame`)."""
        return self.peer.answer_frame(frame)

    def detach(self) -> None:
        """Leave the change bus and stop forwarding (the peer is the caller's to close).

        Also unlinks the peer from this attachment, the one reference cycle among them:
        what a stateless exchange made is then freed the moment it ends, instead of
        waiting for the cyclic collector (whose passes cost a modern request ~15 µs)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.session.close()
        self.peer.stop_serving()

    async def aclose(self) -> None:
        """Detach, fail what waits on the client, cancel the handlers still running."""
        self.detach()
        await self.peer.aclose()


class _Outbox:
    """The transport of an `Attachment` that is fed, not read (`Server.attach`,
    `Server.serve_one`): frames out go to a callback; nothing comes in."""

    def __init__(self, send: Callable[[bytes], Awaitable[None]]) -> None:
        self._send = send

    async def send(self, frame: bytes) -> None:
        await self._send(frame)

    async def receive(self) -> bytes:
        raise ClosedError("an attached connection is fed its frames; it receives none")

    async def aclose(self) -> None:
        return None

    def describe(self) -> str:
        return "attached connection"


def _report(violation: ProtocolViolation) -> None:
    _log.warning("bad input from client: %s", violation.error)
