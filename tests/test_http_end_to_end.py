"""mcpkit's Client against mcpkit's Streamable HTTP server on real uvicorn: both eras, JSON
and SSE responses, the server's asks answered over HTTP, every frame schema-checked."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
import pytest

from mcpkit.client import Client, EraChoice, Handlers
from mcpkit.protocol.errors import HeaderMismatch
from mcpkit.protocol.versions import Era
from mcpkit.server import Header
from mcpkit.testing.frames import FrameValidator
from mcpkit.testing.transports import ValidatingTransport
from mcpkit.transports.http import http_client
from tests.framework_server import make_server
from tests.http_harness import serving

pytestmark = pytest.mark.anyio


def answers() -> Handlers:
    async def elicit(params: dict[str, Any]) -> dict[str, Any]:
        return {"action": "accept", "content": {"name": "Ada"}}

    async def sample(params: dict[str, Any]) -> dict[str, Any]:
        return {"role": "assistant", "content": {"type": "text", "text": "hi!"}, "model": "m"}

    return Handlers(elicitation=elicit, sampling=sample, roots=["file:///home/ada"])


CASES = [
    pytest.param(era, json_response, id=f"{era}-{'json' if json_response else 'sse'}")
    for era in ("legacy", "modern")
    for json_response in (False, True)
]


@pytest.mark.parametrize(("era", "json_response"), CASES)
async def test_client_and_server_over_http(era: EraChoice, json_response: bool) -> None:
    with anyio.fail_after(30):
        async with (
            serving(json_response=json_response) as url,
            http_client(url) as transport,
            Client(
                ValidatingTransport(transport, FrameValidator(), side="client"),
                era=era,
                handlers=answers(),
            ) as client,
        ):
            assert client.era is Era(era)
            await client.ping()
            names = [tool.name for tool in await client.list_tools()]
            assert "forecast" in names
            added = await client.call_tool("add", {"a": 2, "b": 40})
            assert added.structured_content == {"result": 42}
            ticks: list[float] = []
            await client.call_tool(
                "ticking",
                {"ticks": 3, "interval": 0.01},
                on_progress=lambda e: ticks.append(e.progress),
            )
            if not json_response:  # JSON answers carry the response only
                assert ticks == [1, 2, 3]
            greeted = await client.call_tool("greet")
            assert greeted.content[0].text == "Hello, Ada!"  # type: ignore[union-attr]
            read = await client.read_resource("test://items/4")
            assert read.contents[0]["text"] == '{"id":4,"double":8}'


async def test_client_by_url() -> None:
    with anyio.fail_after(30):
        async with serving() as url, Client(url) as client:
            assert client.era is Era.MODERN
            assert client.server_info["name"] == "framework"


async def test_x_mcp_header_arguments_travel_as_headers() -> None:
    server = make_server()

    @server.tool()
    def route(region: Annotated[str, Header("Region")], size: int = 1) -> str:
        return f"{region}:{size}"

    with anyio.fail_after(30):
        async with serving(server) as url, Client(url) as client:
            with pytest.raises(HeaderMismatch):  # a raw request does not know the headers
                await client.request("tools/call", {"name": "route", "arguments": {"region": "e"}})
            # call_tool lists the tools when the server asks for headers it did not know
            done = await client.call_tool("route", {"region": "eu-west  1", "size": 2})
            assert done.content[0].text == "eu-west  1:2"  # type: ignore[union-attr]
            assert client._header_params["route"] == {"region": "Region"}
