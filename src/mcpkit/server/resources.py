"""Resources and resource templates: functions that produce the contents of a URI.

Layer: server. A fixed URI is looked up directly; otherwise the templates are tried, most
specific first (`uri_template.TemplateRouter`), and the template's variables become the
function's arguments (converted by their type hints). A URI nothing serves is "not found":
-32002 in legacy sessions, -32602 with `data.uri` in modern ones (spec 2026-07-28 retired
-32002).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import msgspec

from mcpkit.protocol.errors import InvalidParams, ResourceNotFound, RPCError
from mcpkit.protocol.types import (
    BlobResourceContents,
    Icon,
    ReadResourceResult,
    Resource,
    ResourceTemplate,
    TextResourceContents,
)
from mcpkit.protocol.versions import Era
from mcpkit.server.schema import FunctionSignature
from mcpkit.server.tools import call_function
from mcpkit.server.uri_template import UriTemplate

__all__ = ["CachePolicy", "RegisteredResource", "RegisteredTemplate", "contents_of", "not_found"]


class CachePolicy(msgspec.Struct, frozen=True):
    """The caching hints of a modern result (spec: server/utilities/caching)."""

    ttl_ms: int = 0
    scope: str = "public"


class RegisteredResource(msgspec.Struct, frozen=True):
    resource: Resource
    function: Callable[..., Any]
    signature: FunctionSignature
    cache: CachePolicy | None


class RegisteredTemplate(msgspec.Struct, frozen=True):
    template: ResourceTemplate
    uri_template: UriTemplate
    function: Callable[..., Any]
    signature: FunctionSignature
    cache: CachePolicy | None


def _unset(value: Any) -> Any:
    return msgspec.UNSET if value is None else value


def describe(
    function: Callable[..., Any], context_type: type, **fields: Any
) -> tuple[FunctionSignature, dict[str, Any]]:
    """The signature of a resource function and the wire fields common to both kinds."""
    signature = FunctionSignature.from_function(
        function, context_type=context_type, structured_output=False
    )
    icons = fields.pop("icons", None)
    wire = {key: _unset(value) for key, value in fields.items()}
    wire["name"] = fields.get("name") or function.__name__
    wire["description"] = _unset(fields.get("description") or signature.description)
    wire["icons"] = msgspec.UNSET if not icons else [msgspec.convert(i, Icon) for i in icons]
    return signature, wire


def not_found(uri: str, era: Era) -> RPCError:
    """The era's error for a URI no resource serves."""
    if era is Era.MODERN:
        return InvalidParams(f"resource not found: {uri}", {"uri": uri})
    return ResourceNotFound(f"resource not found: {uri}", {"uri": uri})


def contents_of(value: Any, uri: str, mime_type: str | None) -> list[Any]:
    """Turn what a resource function returned into resource contents.

    str → text; bytes → base64 blob; a contents struct or a list of them → as is; a
    `ReadResourceResult` → its contents; anything else JSON-able → JSON text.
    """
    if isinstance(value, ReadResourceResult):
        return list(value.contents)
    if isinstance(value, TextResourceContents | BlobResourceContents):
        return [value]
    if (
        isinstance(value, list | tuple)
        and value
        and all(isinstance(v, TextResourceContents | BlobResourceContents) for v in value)
    ):
        return list(value)
    mime = _unset(mime_type)
    if isinstance(value, bytes):
        blob = base64.b64encode(value).decode("ascii")
        return [BlobResourceContents(uri=uri, blob=blob, mime_type=mime)]
    if isinstance(value, str):
        return [TextResourceContents(uri=uri, text=value, mime_type=mime)]
    text = msgspec.json.encode(_jsonable(value)).decode()
    return [
        TextResourceContents(uri=uri, text=text, mime_type=_unset(mime_type or "application/json"))
    ]


def _jsonable(value: Any) -> Any:
    try:
        return msgspec.to_builtins(value)
    except TypeError:
        from pydantic import TypeAdapter

        return TypeAdapter(type(value)).dump_python(value, mode="json")


async def read(
    function: Callable[..., Any],
    signature: FunctionSignature,
    arguments: dict[str, Any],
    context: Any,
) -> Any:
    """Call a resource function with its (validated) arguments and the context."""
    try:
        kwargs = signature.validate(arguments)
    except Exception as exc:  # a template variable that does not fit its type
        raise InvalidParams(f"invalid resource URI: {exc}") from None
    if signature.context_param is not None:
        kwargs[signature.context_param] = context
    return await call_function(function, kwargs)
