"""Prompts: a function with string arguments becomes a prompt template.

Layer: server. Arguments come from the function's parameters (required when they have no
default); a missing required argument or an unknown prompt is -32602 (spec: server/prompts).
What the function returns becomes the prompt's messages: a string is one user message; a
list mixes strings (user messages), `PromptMessage`s, `(role, content)` pairs and dicts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from mcpkit.protocol.errors import InvalidParams
from mcpkit.protocol.types import GetPromptResult, Icon, Prompt, PromptArgument, PromptMessage
from mcpkit.server.content import to_content
from mcpkit.server.schema import FunctionSignature
from mcpkit.server.tools import call_function

__all__ = ["RegisteredPrompt", "get_prompt", "make_prompt", "messages_of"]


class RegisteredPrompt(msgspec.Struct, frozen=True):
    prompt: Prompt
    function: Callable[..., Any]
    signature: FunctionSignature


def make_prompt(
    function: Callable[..., Any],
    *,
    context_type: type,
    name: str | None = None,
    title: str | None = None,
    description: str | None = None,
    icons: list[Icon | dict[str, Any]] | None = None,
    meta: dict[str, Any] | None = None,
) -> RegisteredPrompt:
    """Build a prompt from a function."""
    signature = FunctionSignature.from_function(
        function, context_type=context_type, structured_output=False
    )
    schema = signature.input_schema
    required = set(schema.get("required", ()))
    arguments = [
        PromptArgument(
            name=arg,
            description=prop.get("description", msgspec.UNSET),
            required=arg in required,
        )
        for arg, prop in schema.get("properties", {}).items()
    ]
    prompt = Prompt(
        name=name or function.__name__,
        title=msgspec.UNSET if title is None else title,
        description=_or_unset(description or signature.description),
        arguments=arguments or msgspec.UNSET,
        icons=msgspec.UNSET if not icons else [msgspec.convert(i, Icon) for i in icons],
        meta=_or_unset(meta),
    )
    return RegisteredPrompt(prompt, function, signature)


def _or_unset(value: Any) -> Any:
    return msgspec.UNSET if value is None else value


async def get_prompt(
    registered: RegisteredPrompt, arguments: dict[str, str], context: Any
) -> GetPromptResult:
    """Render a prompt.

    Raises:
        InvalidParams: a required argument is missing or an argument does not fit (-32602).
    """
    missing = [
        a.name for a in registered.prompt.arguments or [] if a.required and a.name not in arguments
    ]
    if missing:
        raise InvalidParams(
            f"missing required arguments: {', '.join(missing)}", {"missing": missing}
        )
    try:
        kwargs = registered.signature.validate(dict(arguments))
    except Exception as exc:
        raise InvalidParams(f"invalid prompt arguments: {exc}") from None
    if registered.signature.context_param is not None:
        kwargs[registered.signature.context_param] = context
    value = await call_function(registered.function, kwargs)
    if isinstance(value, GetPromptResult):
        return value
    description = registered.prompt.description
    return GetPromptResult(messages=messages_of(value), description=description)


def messages_of(value: Any) -> list[PromptMessage]:
    """Turn a prompt function's return value into messages."""
    items = value if isinstance(value, list | tuple) else [value]
    messages: list[PromptMessage] = []
    for item in items:
        if isinstance(item, PromptMessage):
            messages.append(item)
        elif isinstance(item, dict):
            messages.append(msgspec.convert(item, PromptMessage))
        elif isinstance(item, tuple) and len(item) == 2 and item[0] in ("user", "assistant"):
            messages.extend(PromptMessage(role=item[0], content=c) for c in to_content(item[1]))
        else:
            messages.extend(PromptMessage(role="user", content=c) for c in to_content(item))
    return messages
