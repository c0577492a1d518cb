"""Tools: a Python function becomes an MCP tool, its call becomes a `CallToolResult`.

Layer: server. The schema work is `schema.py`'s and the result work `content.py`'s; this
module ties them to a registered function and calls it. Errors a model can act on (bad
arguments, a `ToolError`, any exception in the tool) become `isError` results it can read;
only protocol failures (unknown tool) are JSON-RPC errors.
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

import anyio.to_thread
import msgspec

from mcpkit.protocol.errors import RPCError, ToolError
from mcpkit.protocol.headers import check_headers
from mcpkit.protocol.types import CallToolResult, Icon, Tool, ToolAnnotations
from mcpkit.server.content import error_result, to_call_tool_result
from mcpkit.server.schema import FunctionSignature

__all__ = ["TOOL_NAME", "RegisteredTool", "call_function", "call_tool", "make_tool"]

_log = logging.getLogger("mcpkit.server")

# spec (server/tools, "Tool names"): SHOULD be 1-128 characters of these.
TOOL_NAME: Final = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


class RegisteredTool(msgspec.Struct, frozen=True):
    """A tool as the server holds it: its wire definition and the function behind it.

    `explicit_schema` marks a tool registered with its own `input_schema`: its arguments
    reach the function as sent (keys it has parameters for), validation is the author's.
    """

    tool: Tool
    function: Callable[..., Any]
    signature: FunctionSignature
    explicit_schema: bool = False
    scopes: frozenset[str] = frozenset()


def _unset(value: Any) -> Any:
    return msgspec.UNSET if value is None else value


def make_tool(
    function: Callable[..., Any],
    *,
    context_type: type,
    name: str | None = None,
    title: str | None = None,
    description: str | None = None,
    annotations: ToolAnnotations | dict[str, Any] | None = None,
    icons: Sequence[Icon | dict[str, Any]] | None = None,
    meta: dict[str, Any] | None = None,
    structured_output: bool | None = None,
    input_schema: dict[str, Any] | None = None,
    scopes: Sequence[str] = (),
) -> RegisteredTool:
    """Build a tool from a function (schemas from its type hints, text from its docstring;
    `input_schema` replaces the derived one, verbatim; `scopes` are the OAuth scopes a
    caller needs, checked by a protected HTTP app).

    Raises:
        ValueError: the name breaks the spec's naming rules, or an `x-mcp-header`
            annotation breaks the spec's rules.
    """
    tool_name = name or function.__name__
    if not TOOL_NAME.match(tool_name):
        raise ValueError(
            f"invalid tool name {tool_name!r}: use 1-128 characters of A-Z a-z 0-9 _ - ."
        )
    signature = FunctionSignature.from_function(
        function, context_type=context_type, structured_output=structured_output
    )
    schema = signature.input_schema if input_schema is None else input_schema
    check_headers(tool_name, schema)
    tool = Tool(
        name=tool_name,
        title=_unset(title),
        description=_unset(description or signature.description),
        input_schema=schema,
        output_schema=_unset(signature.output_schema),
        annotations=msgspec.UNSET
        if annotations is None
        else _convert(annotations, ToolAnnotations),
        icons=msgspec.UNSET if not icons else [_convert(icon, Icon) for icon in icons],
        meta=_unset(meta),
    )
    explicit = input_schema is not None
    return RegisteredTool(tool, function, signature, explicit, frozenset(scopes))


def _convert(value: Any, type_: type) -> Any:
    return value if isinstance(value, type_) else msgspec.convert(value, type_)


@functools.lru_cache(maxsize=4096)
def _is_async(function: Callable[..., Any]) -> bool:
    """`inspect.iscoroutinefunction`, remembered per function (it is asked on every call)."""
    return inspect.iscoroutinefunction(function)


def call_function(function: Callable[..., Any], kwargs: dict[str, Any]) -> Awaitable[Any]:
    """Call a handler: async ones on the loop, sync ones in a worker thread (never blocking
    the loop). Await what it returns: an async handler's own coroutine (no wrapper around
    it: one coroutine frame less on every call)."""
    try:
        is_async = _is_async(function)
    except TypeError:  # an unhashable callable is simply asked each time
        is_async = inspect.iscoroutinefunction(function)
    if is_async:
        return function(**kwargs)  # type: ignore[no-any-return]
    return _in_thread(function, kwargs)


async def _in_thread(function: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    result = await anyio.to_thread.run_sync(lambda: function(**kwargs))
    if inspect.isawaitable(result):
        return await result
    return result


async def call_tool(
    registered: RegisteredTool, arguments: dict[str, Any], context: Any
) -> CallToolResult:
    """Run a tool; its own failures come back as `isError` results, never as exceptions.

    Exceptions that belong to the framework (RPC errors, MRTR's `InputRequired`,
    cancellation) pass through.
    """
    signature = registered.signature
    try:
        if registered.explicit_schema:
            names = inspect.signature(registered.function).parameters
            kwargs = {k: v for k, v in arguments.items() if k in names}
        else:
            kwargs = signature.validate(arguments)
        if signature.context_param is not None:
            kwargs[signature.context_param] = context
        value = await call_function(registered.function, kwargs)
    except ToolError as exc:
        return error_result(str(exc))
    except RPCError:
        raise
    except Exception as exc:
        _log.exception("tool %s failed", registered.tool.name)
        return error_result(f"{type(exc).__name__}: {exc}")
    return to_call_tool_result(value, signature)
