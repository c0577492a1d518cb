"""`Peer`'s own duties beyond what the client and server tests cover: a request handler's
task never ends with an exception nobody retrieves.

Over `memory_pair` with a real `Connection` on each side; the server side's transport is
wrapped so that its sends can be made to fail.
"""

from __future__ import annotations

import gc
import logging
from typing import Any

import anyio
import pytest

from mcpkit.peer import Peer
from mcpkit.protocol.connection import Connection
from mcpkit.protocol.context import CLIENT_CAPABILITIES, PROTOCOL_VERSION
from mcpkit.protocol.errors import BrokenError, LocalProtocolError
from mcpkit.protocol.events import RequestReceived
from mcpkit.transports.base import Transport
from mcpkit.transports.memory import memory_pair

pytestmark = pytest.mark.anyio
META = {PROTOCOL_VERSION: "2026-07-28", CLIENT_CAPABILITIES: {}}


class Failing:
    """Sends fail with `error` once it is set."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.error: Exception | None = None

    async def send(self, frame: bytes) -> None:
        if self.error is not None:
            raise self.error
        await self.inner.send(frame)

    async def receive(self) -> bytes:
        return await self.inner.receive()

    async def aclose(self) -> None:
        await self.inner.aclose()

    def describe(self) -> str:
        return "failing"


@pytest.mark.parametrize(
    ("error", "level", "text"),
    [
        (BrokenError("the pipe broke"), logging.DEBUG, "was not sent"),
        (LocalProtocolError("a bug of ours"), logging.ERROR, "answering request"),
    ],
)
async def test_an_answer_that_cannot_be_sent_is_logged_not_left_in_the_task(
    error: Exception, level: int, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    ours, theirs = memory_pair()
    failing = Failing(theirs)
    started, release = anyio.Event(), anyio.Event()

    async def handle(request: RequestReceived) -> Any:
        started.set()
        await release.wait()
        return {"tools": []}

    server = Peer(Connection(is_client=False), failing, on_request=handle)
    client = Peer(Connection(is_client=True), ours, on_request=handle)
    caplog.set_level(logging.DEBUG, logger="mcpkit.peer")
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(server.run)
            tg.start_soon(client.run)
            async with anyio.create_task_group() as calls:

                async def call() -> None:
                    with anyio.move_on_after(0.5):
                        await client.request("tools/list", meta=META)

                calls.start_soon(call)
                await started.wait()
                failing.error = error
                release.set()
            await server.aclose()
            await client.aclose()
    gc.collect()
    assert any(r.levelno == level and text in r.getMessage() for r in caplog.records)
    assert not any("never retrieved" in r.getMessage() for r in caplog.records)
