"""The server half of the protocol: one handler per method, each serving both eras.

Layer: server. Each handler takes `(server, session, request)` and returns the result
struct; the `Server` stamps what every modern result needs (`_meta.serverInfo`, caching
hints) and turns exceptions into JSON-RPC errors. Era differences stay local and explicit
(`request.era`), e.g. the resource-not-found code.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

import anyio
import msgspec

from mcpkit.protocol.context import SUBSCRIPTION_ID
from mcpkit.protocol.errors import InvalidParams, MethodNotFound
from mcpkit.protocol.events import RequestReceived
from mcpkit.protocol.types import (
    CallToolResult,
    CompleteResult,
    CompleteResultCompletion,
    DiscoverResult,
    GetPromptResult,
    InitializeResult,
    InputRequiredResult,
    ListPromptsResult,
    ListResourcesResult,
    ListResourceTemplatesResult,
    ListToolsResult,
    PromptReference,
    ReadResourceResult,
)
from mcpkit.protocol.versions import Era
from mcpkit.server import prompts, resources, tools
from mcpkit.server.context import Context
from mcpkit.server.pagination import paginate
from mcpkit.server.session import Change, Session

if TYPE_CHECKING:
    from mcpkit.server.server import Server

__all__ = ["HANDLERS", "Handler"]

_LEGACY: Final = Era.LEGACY  # (a hot-path alias: see `Era`)

Handler = Callable[["Server", Session, RequestReceived], Awaitable[Any]]
_MAX_COMPLETIONS = 100


async def initialize(
    server: Server, session: Session, request: RequestReceived
) -> InitializeResult:
    return InitializeResult(
        protocol_version=request.version,
        capabilities=server.capabilities(),
        server_info=server.info,
        instructions=_unset(server.instructions),
    )


async def ping(server: Server, session: Session, request: RequestReceived) -> dict[str, Any]:
    return {}


async def discover(server: Server, session: Session, request: RequestReceived) -> DiscoverResult:
    return DiscoverResult(
        supported_versions=list(server.modern_versions),
        capabilities=server.capabilities(),
        ttl_ms=server.cache_for("server/discover").ttl_ms,
        cache_scope=server.cache_for("server/discover").scope,  # type: ignore[arg-type]
        instructions=_unset(server.instructions),
    )


def _unset(value: Any) -> Any:
    return msgspec.UNSET if value is None else value


def _cursor(request: RequestReceived) -> str | None:
    cursor = getattr(request.params, "cursor", msgspec.UNSET)
    return None if cursor is msgspec.UNSET else cursor


# ---- tools ---------------------------------------------------------------------------


async def list_tools(server: Server, session: Session, request: RequestReceived) -> ListToolsResult:
    page, after = paginate(
        [t.tool for t in server.tools.values()],
        _cursor(request),
        server.page_size,
        key=lambda tool: tool.name,
    )
    return ListToolsResult(tools=page, next_cursor=_unset(after))


def call_tool(
    server: Server, session: Session, request: RequestReceived
) -> Awaitable[CallToolResult | InputRequiredResult]:
    # a plain function returning the tool's awaitable: no coroutine frames of its own on
    # the hottest path (the same for `get_prompt`)
    params = request.params
    registered = server.tools.get(params.name)
    if registered is None:
        raise InvalidParams(f"unknown tool: {params.name}", {"name": params.name})
    arguments = {} if params.arguments is msgspec.UNSET else params.arguments
    if registered.signature.context_param is None and request.era is _LEGACY:
        # nobody to hand a `Context` to, and no input rounds to run (legacy asks are plain
        # requests, made through a context): the tool's own awaitable, nothing built for it
        return tools.call_tool(registered, arguments, None)
    return server.with_asks(
        session, request, functools.partial(tools.call_tool, registered, arguments)
    )


# ---- resources -----------------------------------------------------------------------


async def list_resources(
    server: Server, session: Session, request: RequestReceived
) -> ListResourcesResult:
    items = [r.resource for r in server.resources.values()]
    page, after = paginate(items, _cursor(request), server.page_size, key=lambda r: r.uri)
    return ListResourcesResult(resources=page, next_cursor=_unset(after))


async def list_templates(
    server: Server, session: Session, request: RequestReceived
) -> ListResourceTemplatesResult:
    items = [t.template for t in server.templates.values()]
    page, after = paginate(items, _cursor(request), server.page_size, key=lambda t: t.uri_template)
    return ListResourceTemplatesResult(resource_templates=page, next_cursor=_unset(after))


async def read_resource(
    server: Server, session: Session, request: RequestReceived
) -> ReadResourceResult | InputRequiredResult:
    uri: str = request.params.uri
    fixed = server.resources.get(uri)
    if fixed is not None:
        arguments: dict[str, Any] = {}
        function, signature = fixed.function, fixed.signature
        mime, cache = fixed.resource.mime_type, fixed.cache
    else:
        found = server.match_template(uri)
        if found is None:
            raise resources.not_found(uri, request.era)
        template, arguments = found
        function, signature = template.function, template.signature
        mime, cache = template.template.mime_type, template.cache

    async def run(ctx: Context) -> ReadResourceResult:
        value = await resources.read(function, signature, arguments, ctx)
        contents = resources.contents_of(value, uri, None if mime is msgspec.UNSET else mime)
        if cache is None:
            return ReadResourceResult(contents=contents)
        return ReadResourceResult(contents=contents, ttl_ms=cache.ttl_ms, cache_scope=cache.scope)  # type: ignore[arg-type]

    return await server.with_asks(session, request, run)


async def subscribe(server: Server, session: Session, request: RequestReceived) -> dict[str, Any]:
    session.subscriptions.add(request.params.uri)
    return {}


async def unsubscribe(server: Server, session: Session, request: RequestReceived) -> dict[str, Any]:
    session.subscriptions.discard(request.params.uri)
    return {}


# ---- prompts -------------------------------------------------------------------------


async def list_prompts(
    server: Server, session: Session, request: RequestReceived
) -> ListPromptsResult:
    page, after = paginate(
        [p.prompt for p in server.prompts.values()],
        _cursor(request),
        server.page_size,
        key=lambda prompt: prompt.name,
    )
    return ListPromptsResult(prompts=page, next_cursor=_unset(after))


def get_prompt(
    server: Server, session: Session, request: RequestReceived
) -> Awaitable[GetPromptResult | InputRequiredResult]:
    params = request.params
    registered = server.prompts.get(params.name)
    if registered is None:
        raise InvalidParams(f"unknown prompt: {params.name}", {"name": params.name})
    arguments = {} if params.arguments is msgspec.UNSET else params.arguments
    return server.with_asks(
        session, request, functools.partial(prompts.get_prompt, registered, arguments)
    )


# ---- completion, logging -------------------------------------------------------------


async def complete(server: Server, session: Session, request: RequestReceived) -> CompleteResult:
    params = request.params
    ref = params.ref
    key = ("prompt", ref.name) if isinstance(ref, PromptReference) else ("resource", ref.uri)
    context = {} if params.context is msgspec.UNSET else (params.context.arguments or {})
    values = await server.completions_for(key, params.argument.name, params.argument.value, context)
    total = len(values)
    completion = CompleteResultCompletion(
        values=values[:_MAX_COMPLETIONS], total=total, has_more=total > _MAX_COMPLETIONS
    )
    return CompleteResult(completion=completion)


async def set_level(server: Server, session: Session, request: RequestReceived) -> dict[str, Any]:
    session.log_level = request.params.level
    return {}


# ---- modern subscriptions ------------------------------------------------------------


async def listen(server: Server, session: Session, request: RequestReceived) -> dict[str, Any]:
    """Stream the changes the filter asks for until the client cancels (spec:
    basic/patterns/subscriptions). The acknowledgement comes first and echoes what is
    honoured; every notification carries the subscription id (= the request id)."""
    wanted = request.params.notifications
    honoured = server.honoured_filter(wanted)
    meta = {SUBSCRIPTION_ID: request.id}
    send, receive = anyio.create_memory_object_stream[Change](256)

    def hear(change: Change) -> None:
        if _matches(honoured, change):
            with contextlib.suppress(anyio.WouldBlock):  # a slow listener loses events
                send.send_nowait(change)

    # Subscribe before acknowledging: a change right after the client sees the ack is kept.
    unsubscribe = server.bus.subscribe(hear)
    try:
        await session.peer.notify(
            "notifications/subscriptions/acknowledged", {"notifications": honoured, "_meta": meta}
        )
        async with receive:
            async for change in receive:
                await session.peer.notify(change.method, {**(change.params or {}), "_meta": meta})
    finally:
        unsubscribe()
        send.close()
    return {"_meta": meta}


def _matches(honoured: dict[str, Any], change: Change) -> bool:
    if change.kind == "resource":
        return change.uri in honoured.get("resourceSubscriptions", ())
    return bool(honoured.get(f"{change.kind}ListChanged"))


HANDLERS: dict[str, Handler] = {
    "initialize": initialize,
    "ping": ping,
    "server/discover": discover,
    "tools/list": list_tools,
    "tools/call": call_tool,
    "resources/list": list_resources,
    "resources/templates/list": list_templates,
    "resources/read": read_resource,
    "resources/subscribe": subscribe,
    "resources/unsubscribe": unsubscribe,
    "prompts/list": list_prompts,
    "prompts/get": get_prompt,
    "completion/complete": complete,
    "logging/setLevel": set_level,
    "subscriptions/listen": listen,
}


def handler_for(method: str) -> Handler:
    handler = HANDLERS.get(method)
    if handler is None:
        raise MethodNotFound(f"method not found: {method}")
    return handler
