"""An MCP server built with the official Python SDK (`mcp` 2.3.0) whose tools ask the client.

Why: `tests/test_interop_client.py` points mcpkit's client at it to check that the answers
mcpkit's `Handlers` give reach an independent server in both eras. The tools ask through the
SDK's own resolver API (`Resolve` with `Sample`, `Elicit`, `ListRoots`), which picks the
transport from the negotiated version: a real server->client request mid-call in a legacy
session, an `InputRequiredResult` the client must answer and retry with in the 2026-07-28
era. The tools reply with what they got back, so a test can see the round trip. A static
text resource, a blob resource, a template, a prompt and a completion cover the rest.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver import Elicit, ListRoots, Resolve, Sample
from mcp_types import (
    Completion,
    CompletionArgument,
    CompletionContext,
    CreateMessageResult,
    ListRootsResult,
    PromptReference,
    ResourceTemplateReference,
    SamplingMessage,
    TextContent,
)
from pydantic import BaseModel, Field

server = MCPServer("official-everything", version="2.3.0", instructions="Asks its client.")

LANGUAGES = ["python", "perl", "php", "rust"]


class Contact(BaseModel):
    """The form `ask_user` shows: one required string, one integer with a default."""

    name: str = Field(description="Your name")
    age: int = Field(default=30, description="Your age")


def sample_haiku(topic: str) -> Sample:
    """Ask the client's LLM for a haiku about the tool's `topic` argument."""
    message = SamplingMessage(role="user", content=TextContent(type="text", text=topic))
    return Sample([message], max_tokens=50, system_prompt="Write a haiku.")


def elicit_contact() -> Elicit[Contact]:
    return Elicit("Who are you?", Contact)


def client_roots() -> ListRoots:
    return ListRoots()


def _sampled_text(result: CreateMessageResult) -> str:
    content = result.content
    return content.text if isinstance(content, TextContent) else repr(content)


@server.tool()
def ask_llm(topic: str, reply: Annotated[CreateMessageResult, Resolve(sample_haiku)]) -> str:
    """Sample the client's LLM about `topic`; reply with its text and model."""
    return f"{reply.model} said: {_sampled_text(reply)}"


@server.tool()
def ask_user(contact: Annotated[Contact, Resolve(elicit_contact)]) -> str:
    """Elicit a name and an age from the user; greet them."""
    return f"Hello {contact.name}, aged {contact.age}"


@server.tool()
def show_roots(roots: Annotated[ListRootsResult, Resolve(client_roots)]) -> str:
    """List the client's roots, one URI a line."""
    return "\n".join(str(root.uri) for root in roots.roots)


@server.tool()
def ask_everything(
    topic: str,
    reply: Annotated[CreateMessageResult, Resolve(sample_haiku)],
    contact: Annotated[Contact, Resolve(elicit_contact)],
    roots: Annotated[ListRootsResult, Resolve(client_roots)],
) -> str:
    """All three asks at once (one batched round in the modern era)."""
    return f"{_sampled_text(reply)} | {contact.name} | {len(roots.roots)} root(s)"


@server.resource("doc://readme", name="readme", mime_type="text/plain")
def readme() -> str:
    return "This server asks its client for things."


@server.resource("doc://logo", name="logo", mime_type="application/octet-stream")
def logo() -> bytes:
    return b"\x89PNG\r\n\x1a\n-not-really"


@server.resource("greeting://{name}", name="greeting", mime_type="text/plain")
def greeting(name: str) -> str:
    return f"Hello, {name}!"


@server.prompt()
def review(code: str, language: str = "python") -> str:
    """Ask for a code review."""
    return f"Please review this {language} code:\n{code}"


# `MCPServer.completion` has no annotations in mcp 2.3.0, so mypy --strict flags its use.
@server.completion()  # type: ignore[untyped-decorator, no-untyped-call]
async def complete(
    ref: PromptReference | ResourceTemplateReference,
    argument: CompletionArgument,
    context: CompletionContext | None,
) -> Completion | None:
    """Complete the `language` argument of `review`."""
    if isinstance(ref, PromptReference) and argument.name == "language":
        values = [lang for lang in LANGUAGES if lang.startswith(argument.value)]
        return Completion(values=values, total=len(values), has_more=False)
    return None


if __name__ == "__main__":
    server.run("stdio")
