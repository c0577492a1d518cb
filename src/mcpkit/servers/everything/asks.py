"""The everything server's tools that ask the client for input: sampling, elicitation, roots.

Layer: applications (servers/everything); public API only (`mcpkit.server`,
`mcpkit.protocol.*`). Every tool here is written once, against `ctx.elicit`, `ctx.sample`
and `ctx.roots`, and works in both eras: a legacy session gets real server→client
requests; a modern request gets MRTR rounds (`InputRequiredResult`s with the exact
`inputRequests` keys the conformance suite expects, and `ctx.state` sealed into
`requestState`). The `test_input_required_result_*` tools are the SEP-2322 fixtures; the
others are the legacy fixtures, which keep working in the modern era through MRTR.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import anyio

from mcpkit.protocol.context import has_capability
from mcpkit.protocol.types import CreateMessageResult, ElicitResult, Root, TextContent
from mcpkit.protocol.versions import Era
from mcpkit.server import Context, Server, ToolError
from mcpkit.servers.everything import forms

__all__ = ["register", "together"]


# ---- helpers ---------------------------------------------------------------------------


async def together(*asks: Callable[[], Awaitable[Any]]) -> list[Any]:
    """Run asks concurrently and return their answers in order.

    In the modern era concurrent asks land in one MRTR round. A failure of one ask (e.g.
    -32021 for an undeclared capability) is re-raised as itself, never as a group; a group
    holding only "input required" signals passes through for the framework to answer.
    """
    answers: list[Any] = [None] * len(asks)

    async def run(index: int, ask: Callable[[], Awaitable[Any]]) -> None:
        answers[index] = await ask()

    try:
        async with anyio.create_task_group() as tg:
            for index, ask in enumerate(asks):
                tg.start_soon(run, index, ask)
    except BaseExceptionGroup as group:
        errors = [exc for exc in group.exceptions if isinstance(exc, Exception)]
        if errors:
            raise errors[0] from None
        raise
    return answers


def text_of(result: CreateMessageResult) -> str:
    """The text of a sampling answer (its text blocks joined)."""
    blocks = result.content if isinstance(result.content, list) else [result.content]
    texts = [block.text for block in blocks if isinstance(block, TextContent)]
    return " ".join(texts) if texts else "(no text)"


def field_of(answer: ElicitResult, name: str, fallback: str) -> str:
    """One field of an accepted form, or `fallback` when declined, cancelled or missing."""
    if answer.action != "accept" or not isinstance(answer.content, dict):
        return fallback
    return str(answer.content.get(name, fallback))


def outcome(answer: ElicitResult) -> str:
    content = answer.content if isinstance(answer.content, dict) else {}
    return f"action={answer.action}, content={json.dumps(content, sort_keys=True)}"


def roots_text(roots: list[Root]) -> str:
    if not roots:
        return "The client has no roots."
    return f"Client roots ({len(roots)}): " + ", ".join(root.uri for root in roots)


# ---- legacy fixtures (MRTR in the modern era) -----------------------------------------


async def test_sampling(prompt: str, ctx: Context) -> str:
    """Asks the client's LLM to answer a prompt (sampling) and returns its answer."""
    result = await ctx.sample(prompt, max_tokens=100)
    return f"LLM response: {text_of(result)}"


async def test_elicitation(message: str, ctx: Context) -> str:
    """Asks the user for a username and an email address (elicitation)."""
    answer = await ctx.elicit(message, forms.USER_INFO)
    return f"User response: {outcome(answer)}"


async def test_elicitation_sep1034_defaults(ctx: Context) -> str:
    """Asks with a form whose every field has a default (SEP-1034)."""
    answer = await ctx.elicit("Please review and update the form fields", forms.DEFAULTS)
    return f"Elicitation completed: {outcome(answer)}"


async def test_elicitation_sep1330_enums(ctx: Context) -> str:
    """Asks with a form offering the five kinds of enum fields (SEP-1330)."""
    answer = await ctx.elicit("Please pick from the options", forms.ENUMS)
    return f"Elicitation completed: {outcome(answer)}"


async def test_missing_capability(ctx: Context) -> str:
    """Needs sampling: without it the request fails with -32021 (modern)."""
    result = await ctx.sample("Say hello", max_tokens=20)
    return f"Sampling is available: {text_of(result)}"


async def test_streaming_elicitation(ctx: Context) -> str:
    """Asks for a confirmation: in the modern era only an InputRequiredResult, no request."""
    answer = await ctx.elicit("Please confirm to continue", forms.CONFIRM, key="confirm")
    content = answer.content if isinstance(answer.content, dict) else {}
    confirmed = answer.action == "accept" and content.get("ok") is True
    return "Confirmed." if confirmed else "Not confirmed."


# ---- SEP-2322 fixtures -----------------------------------------------------------------


async def test_input_required_result_elicitation(ctx: Context) -> str:
    """Asks the user's name (key user_name), then greets them."""
    answer = await ctx.elicit("What is your name?", forms.NAME, key="user_name")
    return f"Hello, {field_of(answer, 'name', 'stranger')}!"


async def test_input_required_result_sampling(ctx: Context) -> str:
    """Asks the client's LLM for the capital of France (key capital_question)."""
    result = await ctx.sample(
        "What is the capital of France?", max_tokens=100, key="capital_question"
    )
    return f"The model answered: {text_of(result)}"


async def test_input_required_result_list_roots(ctx: Context) -> str:
    """Asks for the client's roots (key client_roots)."""
    return roots_text(await ctx.roots(key="client_roots"))


async def test_input_required_result_request_state(ctx: Context) -> str:
    """Asks for a confirmation (key confirm) and checks its own state came back."""
    echoed = ctx.state.get("asked") == "confirm"
    ctx.state["asked"] = "confirm"
    answer = await ctx.elicit("Please confirm", forms.CONFIRM, key="confirm")
    if ctx.era is Era.MODERN and not echoed:
        raise ToolError("the retry did not carry the requestState of the first round")
    return f"state-ok: the server's state survived the round trip ({outcome(answer)})"


async def test_input_required_result_multiple_inputs(ctx: Context) -> str:
    """Asks for a name, a sampled greeting and the roots, all in one round."""
    ctx.state["rounds"] = int(ctx.state.get("rounds", 0)) + 1
    name, greeting, roots = await together(
        partial(ctx.elicit, "What is your name?", forms.NAME, key="user_name"),
        partial(ctx.sample, "Generate a greeting", max_tokens=50, key="greeting"),
        partial(ctx.roots, key="client_roots"),
    )
    return (
        f"All inputs received: name={field_of(name, 'name', 'stranger')}, "
        f"greeting={text_of(greeting)}, roots={len(roots)}"
    )


async def test_input_required_result_multi_round(ctx: Context) -> str:
    """Asks a name (key step1), then a favourite colour (key step2): two rounds."""
    ctx.state["step"] = 1
    first = await ctx.elicit("Step 1: What is your name?", forms.NAME, key="step1")
    name = field_of(first, "name", "stranger")
    ctx.state.update(step=2, name=name)
    second = await ctx.elicit("Step 2: What is your favorite color?", forms.COLOR, key="step2")
    color = field_of(second, "color", "unknown")
    return f"Multi-round complete: {name} likes {color}."


async def test_input_required_result_tampered_state(ctx: Context) -> str:
    """Asks for a confirmation; its requestState is integrity-protected."""
    ctx.state["issued_to"] = "test_input_required_result_tampered_state"
    answer = await ctx.elicit("Please confirm", forms.CONFIRM, key="confirm")
    return f"State verified ({outcome(answer)})"


async def test_input_required_result_capabilities(ctx: Context) -> str:
    """Asks only for the inputs whose capability the client declared."""
    caps = ctx.client_capabilities
    asks: dict[str, Callable[[], Awaitable[Any]]] = {}
    if has_capability(caps, ("elicitation",)):
        asks["elicitation"] = partial(ctx.elicit, "What is your name?", forms.NAME, key="user_name")
    if has_capability(caps, ("sampling",)):
        asks["sampling"] = partial(ctx.sample, "Generate a greeting", max_tokens=50, key="greeting")
    if has_capability(caps, ("roots",)):
        asks["roots"] = partial(ctx.roots, key="client_roots")
    if not asks:
        return "The client declared no elicitation, sampling or roots: nothing to ask."
    await together(*asks.values())
    return "Asked only for declared capabilities: " + ", ".join(asks)


def register(server: Server) -> None:
    """Add the asking tools to `server`."""
    for tool in (
        test_sampling,
        test_elicitation,
        test_elicitation_sep1034_defaults,
        test_elicitation_sep1330_enums,
        test_missing_capability,
        test_streaming_elicitation,
        test_input_required_result_elicitation,
        test_input_required_result_sampling,
        test_input_required_result_list_roots,
        test_input_required_result_request_state,
        test_input_required_result_multiple_inputs,
        test_input_required_result_multi_round,
        test_input_required_result_tampered_state,
        test_input_required_result_capabilities,
    ):
        server.add_tool(tool)
