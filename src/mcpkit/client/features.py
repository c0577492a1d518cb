"""The typed requests of a client: tools, resources, prompts, completion, logging.

Layer: client. A mixin over `Client.request`: each method sends one MCP request in the
negotiated era and returns the spec's result type. Lists come as single pages
(`*_page`), as async iterators over every page (`iter_*`) and as whole lists (`list_*`).
`call_tool`, `get_prompt` and `read_resource` run the MRTR loop: an `InputRequiredResult`
is answered with the client's handlers and retried (fresh id, byte-exact `requestState`)
up to `max_rounds` times.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Coroutine
from typing import Any, Final

import msgspec

from mcpkit.client.cache import ResultCache
from mcpkit.client.handlers import Handlers
from mcpkit.peer import ProgressHandler
from mcpkit.protocol.errors import HeaderMismatch, MCPKitError, RemoteProtocolError
from mcpkit.protocol.headers import HEADER_KEY, check_headers
from mcpkit.protocol.types import (
    CallToolResult,
    CompleteResult,
    GetPromptResult,
    InputRequiredResult,
    ListPromptsResult,
    ListResourcesResult,
    ListResourceTemplatesResult,
    ListToolsResult,
    Prompt,
    ReadResourceResult,
    Resource,
    ResourceTemplate,
    Tool,
)
from mcpkit.protocol.versions import Era

__all__ = ["Features", "TooManyRounds"]

_log = logging.getLogger("mcpkit.client")

_MODERN: Final = Era.MODERN  # (a hot-path alias: see `Era`)


class TooManyRounds(MCPKitError):
    """The server kept asking for input beyond the client's round limit."""


class Features:
    """Typed MCP requests, mixed into `Client` (which provides what is declared here)."""

    max_rounds: int = 10
    era: Era | None
    handlers: Handlers
    cache: ResultCache
    log_level: str | None
    _output_schemas: dict[str, dict[str, Any]]
    _header_params: dict[str, dict[str, str]]

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
        raise NotImplementedError

    async def cached_request(self, method: str, params: Any = None) -> Any:
        raise NotImplementedError

    # ---- pages and iterators ---------------------------------------------------------

    async def _page(self, method: str, cursor: str | None) -> Any:
        params = {"cursor": cursor} if cursor else None
        return await self.cached_request(method, params)

    async def _pages(self, method: str, field: str) -> AsyncIterator[Any]:
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            page = await self._page(method, cursor)
            for item in getattr(page, field):
                yield item
            after = page.next_cursor
            if after is msgspec.UNSET or not after or after in seen:
                return  # a repeated cursor would loop forever: stop
            seen.add(after)
            cursor = after

    async def list_tools_page(self, cursor: str | None = None) -> ListToolsResult:
        result: ListToolsResult = await self._page("tools/list", cursor)
        return result

    async def iter_tools(self) -> AsyncIterator[Tool]:
        """Every tool, page by page. Tools with an invalid `x-mcp-header` annotation are
        dropped (spec: clients MUST) with a warning."""
        async for tool in self._pages("tools/list", "tools"):
            try:
                check_headers(tool.name, tool.input_schema)
            except ValueError as exc:
                _log.warning("dropping tool %r: %s", tool.name, exc)
                continue
            if tool.output_schema is not msgspec.UNSET:
                self._output_schemas[tool.name] = tool.output_schema
            self._header_params[tool.name] = {
                arg: prop[HEADER_KEY]
                for arg, prop in tool.input_schema.get("properties", {}).items()
                if isinstance(prop, dict) and HEADER_KEY in prop
            }
            yield tool

    async def list_tools(self) -> list[Tool]:
        """Every tool of the server (all pages)."""
        return [tool async for tool in self.iter_tools()]

    async def iter_resources(self) -> AsyncIterator[Resource]:
        async for item in self._pages("resources/list", "resources"):
            yield item

    async def list_resources(self) -> list[Resource]:
        return [item async for item in self.iter_resources()]

    async def list_resources_page(self, cursor: str | None = None) -> ListResourcesResult:
        result: ListResourcesResult = await self._page("resources/list", cursor)
        return result

    async def iter_resource_templates(self) -> AsyncIterator[ResourceTemplate]:
        async for item in self._pages("resources/templates/list", "resource_templates"):
            yield item

    async def list_resource_templates(self) -> list[ResourceTemplate]:
        return [item async for item in self.iter_resource_templates()]

    async def list_resource_templates_page(
        self, cursor: str | None = None
    ) -> ListResourceTemplatesResult:
        result: ListResourceTemplatesResult = await self._page("resources/templates/list", cursor)
        return result

    async def iter_prompts(self) -> AsyncIterator[Prompt]:
        async for item in self._pages("prompts/list", "prompts"):
            yield item

    async def list_prompts(self) -> list[Prompt]:
        return [item async for item in self.iter_prompts()]

    async def list_prompts_page(self, cursor: str | None = None) -> ListPromptsResult:
        result: ListPromptsResult = await self._page("prompts/list", cursor)
        return result

    # ---- calls with MRTR -------------------------------------------------------------

    async def with_inputs(self, method: str, params: dict[str, Any], **kw: Any) -> Any:
        """Send a request and answer `InputRequiredResult` rounds until it completes.

        Raises:
            TooManyRounds: the server asked more than `max_rounds` times.
        """
        round_params = params
        for _ in range(self.max_rounds):
            result = await self.request(method, round_params, **kw)
            if not isinstance(result, InputRequiredResult):
                return result
            responses = {}
            for key, ask in (result.input_requests or {}).items():
                wire = msgspec.to_builtins(ask)
                answer = await self.handlers.answer(wire["method"], wire.get("params", {}))
                responses[key] = msgspec.to_builtins(answer)
            round_params = {**params, "inputResponses": responses}
            if result.request_state is not msgspec.UNSET:
                round_params["requestState"] = result.request_state  # echoed byte for byte
        raise TooManyRounds(f"{method} still needed input after {self.max_rounds} rounds")

    async def call_tool(
        self, name: str, arguments: dict[str, Any] | None = None, **kw: Any
    ) -> CallToolResult:
        """Call a tool. Its own failure is a result with `is_error`, not an exception.

        `structuredContent` is checked against the tool's `outputSchema` when the tool was
        listed before. Over modern HTTP, a tool never listed whose call the server refuses
        for a missing `Mcp-Param-*` header (its `x-mcp-header` arguments were unknown) is
        listed and called once more: callers need not list tools first.

        Raises:
            RemoteProtocolError: the structured content does not match the output schema.
        """
        params = {"name": name, "arguments": arguments or {}}
        # (a legacy server never asks for input rounds: one frame less on every call)
        call = self.with_inputs if self.era is _MODERN else self.request
        try:
            result: CallToolResult = await call("tools/call", params, **kw)
        except HeaderMismatch:
            if name in self._header_params:
                raise
            await self.list_tools()
            if not self._header_params.get(name):
                raise
            result = await call("tools/call", params, **kw)
        schema = self._output_schemas.get(name)
        if schema is not None and result.is_error is not True:
            _check_output(name, schema, result)
        return result

    async def read_resource(self, uri: str, **kw: Any) -> ReadResourceResult:
        """Read a resource (cached while fresh, modern)."""
        cached = self.cache.get("resources/read", {"uri": uri})
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        result: ReadResourceResult = await self.with_inputs("resources/read", {"uri": uri}, **kw)
        self.cache.put("resources/read", {"uri": uri}, result)
        return result

    async def get_prompt(
        self, name: str, arguments: dict[str, str] | None = None, **kw: Any
    ) -> GetPromptResult:
        params: dict[str, Any] = {"name": name, "arguments": arguments or {}}
        result: GetPromptResult = await self.with_inputs("prompts/get", params, **kw)
        return result

    # ---- the rest --------------------------------------------------------------------

    async def complete(
        self,
        ref: dict[str, str],
        argument: str,
        value: str,
        context: dict[str, str] | None = None,
    ) -> CompleteResult:
        """Complete an argument of a prompt (`{"type": "ref/prompt", "name": ...}`) or of a
        resource template (`{"type": "ref/resource", "uri": ...}`)."""
        params: dict[str, Any] = {"ref": ref, "argument": {"name": argument, "value": value}}
        if context:
            params["context"] = {"arguments": context}
        result: CompleteResult = await self.request("completion/complete", params)
        return result

    async def subscribe_resource(self, uri: str) -> None:
        """Legacy `resources/subscribe` (modern servers: use `listen`)."""
        await self.request("resources/subscribe", {"uri": uri})

    async def unsubscribe_resource(self, uri: str) -> None:
        await self.request("resources/unsubscribe", {"uri": uri})

    async def set_logging_level(self, level: str) -> None:
        """Ask for log messages at `level` and above: `logging/setLevel` in legacy sessions,
        the per-request `_meta` log level on every later modern request."""
        if self.era is _MODERN:
            self.log_level = level
            return
        await self.request("logging/setLevel", {"level": level})


def _check_output(name: str, schema: dict[str, Any], result: CallToolResult) -> None:
    import jsonschema

    content = None if result.structured_content is msgspec.UNSET else result.structured_content
    if content is None:
        raise RemoteProtocolError(
            f"tool {name!r} declared an outputSchema but sent no structuredContent"
        )
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(content), key=str)
    if errors:
        raise RemoteProtocolError(
            f"tool {name!r} returned structuredContent that does not match its outputSchema: "
            f"{errors[0].message}"
        )
