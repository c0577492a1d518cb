"""What a client answers when a server asks: sampling, elicitation, roots — and what it hears.

Layer: client. The same handlers answer both eras: a legacy server's real requests
(`sampling/createMessage`, `elicitation/create`, `roots/list`) and the `inputRequests` of a
modern `InputRequiredResult` (MRTR). The capabilities the client declares follow from which
handlers it has, so a server is never told the client can do something it cannot.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from mcpkit.protocol.errors import InvalidParams, MethodNotFound
from mcpkit.protocol.types import CreateMessageResult, ElicitResult, ListRootsResult, Root

__all__ = ["Handlers", "apply_defaults", "maybe_await"]

Answer = Callable[[dict[str, Any]], Awaitable[Any] | Any]
Listener = Callable[..., Awaitable[None] | None]


async def maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


@dataclass
class Handlers:
    """The client's answers and listeners. Every field is optional.

    Attributes:
        sampling: `(params) -> CreateMessageResult | dict` — run the LLM.
        sampling_tools: the sampling handler accepts `tools`/`toolChoice`.
        elicitation: `(params) -> ElicitResult | dict` — ask the user (form mode; URL mode
            too when `elicitation_url`). Schema defaults are filled into accepted content.
        roots: the folders the server may use: a list (of `Root`, dicts or `file://` URIs)
            or a callable returning one.
        on_log / on_progress / on_list_changed / on_resource_updated: listeners for what the
            server reports (`on_list_changed(kind)` with kind in tools|prompts|resources).
    """

    sampling: Answer | None = None
    sampling_tools: bool = False
    elicitation: Answer | None = None
    elicitation_url: bool = False
    roots: Sequence[Root | dict[str, Any] | str] | Callable[[], Any] | None = None
    on_log: Listener | None = None
    on_progress: Listener | None = None
    on_list_changed: Listener | None = None
    on_resource_updated: Listener | None = None
    extra: dict[str, Answer] = field(default_factory=dict)

    def capabilities(self) -> dict[str, Any]:
        """The client capabilities these handlers support."""
        caps: dict[str, Any] = {}
        if self.sampling is not None:
            caps["sampling"] = {"tools": {}} if self.sampling_tools else {}
        if self.elicitation is not None:
            caps["elicitation"] = {"form": {}, "url": {}} if self.elicitation_url else {"form": {}}
        if self.roots is not None:
            caps["roots"] = {"listChanged": True}
        return caps

    async def answer(self, method: str, params: Any) -> Any:
        """Answer one server ask (a legacy request or a modern input request).

        Raises:
            MethodNotFound: no handler for `method`.
            InvalidParams: the handler's answer does not have the shape the method needs.
        """
        wire = params if isinstance(params, dict) else msgspec.to_builtins(params)
        if method == "roots/list" and self.roots is not None:
            return ListRootsResult(roots=await self._roots())
        if method == "sampling/createMessage" and self.sampling is not None:
            return _typed(await maybe_await(self.sampling(wire)), CreateMessageResult, method)
        if method == "elicitation/create" and self.elicitation is not None:
            result = _typed(await maybe_await(self.elicitation(wire)), ElicitResult, method)
            return apply_defaults(result, wire.get("requestedSchema"))
        handler = self.extra.get(method)
        if handler is not None:
            return await maybe_await(handler(wire))
        raise MethodNotFound(f"this client does not handle {method}")

    async def _roots(self) -> list[Root]:
        source = self.roots
        items = await maybe_await(source()) if callable(source) else source
        return [_root(item) for item in items or ()]


def _root(item: Root | dict[str, Any] | str) -> Root:
    if isinstance(item, Root):
        return item
    if isinstance(item, str):
        return Root(uri=item)
    return msgspec.convert(item, Root)


def _typed(value: Any, type_: Any, method: str) -> Any:
    if isinstance(value, type_):
        return value
    try:
        return msgspec.convert(value, type_)
    except msgspec.ValidationError as exc:
        raise InvalidParams(
            f"the client's {method} handler returned an invalid result: {exc}"
        ) from None


def apply_defaults(result: ElicitResult, schema: Any) -> ElicitResult:
    """Fill the schema's `default`s into accepted form content the user left out (spec:
    client/elicitation — clients SHOULD pre-populate defaults).

    Only values an `ElicitResult` can carry are filled: the schema allows a number default
    (3.14) that `ElicitResult.content` (string, integer, boolean, string list) cannot send.
    """
    if result.action != "accept" or not isinstance(schema, dict):
        return result
    content = {} if result.content is msgspec.UNSET else dict(result.content)
    for name, prop in schema.get("properties", {}).items():
        if name in content or not isinstance(prop, dict) or "default" not in prop:
            continue
        if _sendable(prop["default"]):
            content[name] = prop["default"]
    return msgspec.structs.replace(result, content=content)


def _sendable(value: Any) -> bool:
    if isinstance(value, list):
        return all(isinstance(item, str) for item in value)
    return isinstance(value, str | bool | int)
