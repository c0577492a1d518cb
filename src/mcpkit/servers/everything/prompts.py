"""The everything server's prompts: plain, with arguments, with an embedded resource, with
an image, and one that asks the client for input (MRTR on `prompts/get`); plus completion
of the argument prompt's arguments.

Layer: applications (servers/everything); public API only (`mcpkit.server`). Names and
texts are the conformance suite's (REQUIREMENTS §3).
"""

from __future__ import annotations

from typing import Any, Final

from mcpkit.server import Context, EmbeddedText, Image, Server
from mcpkit.servers.everything import forms
from mcpkit.servers.everything.asks import field_of
from mcpkit.servers.everything.media import PNG

__all__ = ["register"]

_SUGGESTIONS: Final = {
    "arg1": ("hello", "help", "hi"),
    "arg2": ("world", "word", "work"),
}


def test_simple_prompt() -> str:
    """A simple prompt without arguments."""
    return "This is a simple prompt for testing."


def test_prompt_with_arguments(arg1: str, arg2: str) -> str:
    """A prompt with two required arguments.

    Args:
        arg1: First test argument.
        arg2: Second test argument.
    """
    return f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"


def test_prompt_with_embedded_resource(resourceUri: str) -> list[Any]:  # the wire name
    """A prompt that embeds a resource.

    Args:
        resourceUri: URI of the resource to embed.
    """
    return [
        EmbeddedText(resourceUri, "Embedded resource content for testing.", "text/plain"),
        "Please process the embedded resource above.",
    ]


def test_prompt_with_image() -> list[Any]:
    """A prompt that shows an image."""
    return [Image(PNG, mime_type="image/png"), "Please analyze the image above."]


async def test_input_required_result_prompt(ctx: Context) -> str:
    """A prompt that first asks the user what context to use (key user_context)."""
    answer = await ctx.elicit(
        "What context should the prompt use?", forms.CONTEXT, key="user_context"
    )
    context = field_of(answer, "context", "no particular context")
    return f"Please answer with this context in mind: {context}"


def complete_argument(argument: str, value: str, context: dict[str, str]) -> list[str]:
    """Suggestions for test_prompt_with_arguments' arguments, by prefix."""
    return [word for word in _SUGGESTIONS.get(argument, ()) if word.startswith(value)]


def register(server: Server) -> None:
    """Add the prompts and the argument completion to `server`."""
    for prompt in (
        test_simple_prompt,
        test_prompt_with_arguments,
        test_prompt_with_embedded_resource,
        test_prompt_with_image,
        test_input_required_result_prompt,
    ):
        server.add_prompt(prompt)
    server.completion(prompt="test_prompt_with_arguments")(complete_argument)
