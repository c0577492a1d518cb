"""A server using every framework feature, for the framework tests (in-process and stdio).

Run as a script it serves over stdio: `python tests/framework_server.py`.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import anyio
from pydantic import BaseModel, Field

from mcpkit.protocol.errors import ToolError
from mcpkit.server import Context, Server


class Unit(enum.Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


class Forecast(BaseModel):
    city: str
    temperature: float
    unit: Unit


@dataclass
class Point:
    x: int
    y: int


def make_server(page_size: int | None = None, cache: Any = None) -> Server:
    @asynccontextmanager
    async def lifespan(server: Server) -> AsyncIterator[dict[str, str]]:
        yield {"db": "connected"}

    server = Server(
        "framework",
        "2.0.0",
        instructions="test server",
        lifespan=lifespan,
        page_size=page_size,
        cache=cache,
    )
    _tools(server)
    _resources(server)
    _prompts(server)
    return server


def _tools(server: Server) -> None:
    @server.tool(annotations={"readOnlyHint": True})
    async def forecast(
        city: Annotated[str, Field(description="Where")], unit: Unit = Unit.CELSIUS
    ) -> Forecast:
        """Forecast the weather for a city."""
        return Forecast(city=city, temperature=21.5, unit=unit)

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers (sync: runs in a worker thread)."""
        return a + b

    @server.tool()
    def midpoint(p: Point, q: Point) -> Point:
        """The point halfway between two points."""
        return Point((p.x + q.x) // 2, (p.y + q.y) // 2)

    @server.tool()
    async def fail(reason: str = "no reason") -> str:
        """Always fails with a ToolError."""
        raise ToolError(f"failed on purpose: {reason}")

    @server.tool()
    async def lifespan_value(ctx: Context) -> str:
        """What the lifespan yielded."""
        return str(ctx.lifespan["db"])

    _context_tools(server)


def _context_tools(server: Server) -> None:
    @server.tool()
    async def chatty(ctx: Context) -> str:
        """Logs at three levels and reports progress."""
        await ctx.debug("debug detail")
        await ctx.info("working")
        await ctx.error("something odd")
        for step in (1, 2, 3):
            await ctx.progress(step, 3, f"step {step}")
        return "done"

    @server.tool()
    async def greet(ctx: Context) -> str:
        """Asks the user's name (elicitation), then greets."""
        answer = await ctx.elicit(
            "What is your name?",
            {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
            key="user_name",
        )
        if answer.action != "accept" or not answer.content:
            return "No name given."
        ctx.state["greeted"] = True
        return f"Hello, {answer.content['name']}!"

    @server.tool()
    async def two_questions(ctx: Context) -> str:
        """Asks two things in one round, then a third in a second round."""
        async with anyio.create_task_group() as tg:
            answers: dict[str, Any] = {}

            async def ask_name() -> None:
                answers["name"] = await ctx.elicit(
                    "Name?",
                    {"type": "object", "properties": {"name": {"type": "string"}}},
                    key="name",
                )

            async def ask_llm() -> None:
                answers["llm"] = await ctx.sample("Say hi", max_tokens=10, key="llm")

            tg.start_soon(ask_name)
            tg.start_soon(ask_llm)
        roots = await ctx.roots(key="roots")
        name, llm = answers["name"].content["name"], answers["llm"].content.text
        return f"{name} / {llm} / {len(roots)} roots"

    _timing_tools(server)


def _timing_tools(server: Server) -> None:
    @server.tool()
    async def ticking(ticks: int, interval: float, ctx: Context) -> str:
        """Reports progress every `interval` seconds, `ticks` times."""
        for tick in range(1, ticks + 1):
            await anyio.sleep(interval)
            await ctx.progress(tick, ticks)
        return "ticked"

    @server.tool()
    async def slow(seconds: float, ctx: Context) -> str:
        """Sleeps (to test cancellation)."""
        await anyio.sleep(seconds)
        return "slept"


def _resources(server: Server) -> None:
    @server.resource("test://static", mime_type="text/plain", description="Static text")
    def static() -> str:
        return "static content"

    @server.resource("test://binary", mime_type="image/png")
    def binary() -> bytes:
        return b"\x89PNG\r\n\x1a\n"

    @server.resource("test://items/{item_id}", mime_type="application/json")
    def item(item_id: int) -> dict[str, Any]:
        """An item by its number."""
        return {"id": item_id, "double": item_id * 2}

    @server.resource("file:///srv/{+path}")
    def file(path: str) -> str:
        """A file under /srv (path-safe template)."""
        return f"contents of {path}"

    @server.completion(resource="test://items/{item_id}")
    def item_ids(argument: str, value: str, context: dict[str, str]) -> list[str]:
        return [str(i) for i in range(1, 200) if str(i).startswith(value)]


def _prompts(server: Server) -> None:
    @server.prompt()
    def review(code: str, language: Literal["python", "rust", "go"] = "python") -> str:
        """Review some code."""
        return f"Please review this {language} code:\n{code}"

    @server.prompt(title="Conversation")
    def conversation(topic: str) -> list[Any]:
        return ["Let's talk about " + topic, ("assistant", "Sure, what about it?")]


if __name__ == "__main__":
    make_server().run()
