"""Two sans-I/O `Connection`s joined by bytes: the protocol tests' only fixture.

No event loop, no transport: what one side's `send_*` returns is fed to the other's
`receive`, and every frame is checked against the official schema on the way.
"""

from __future__ import annotations

from typing import Any

from mcpkit.protocol.connection import Connection
from mcpkit.protocol.context import CLIENT_CAPABILITIES, PROTOCOL_VERSION
from mcpkit.protocol.events import Event, RequestReceived
from mcpkit.testing.frames import FrameValidator

MODERN_META = {PROTOCOL_VERSION: "2026-07-28", CLIENT_CAPABILITIES: {}}


class Pair:
    """A client and a server connection, with a frame validator between them."""

    def __init__(self) -> None:
        self.client = Connection(is_client=True)
        self.server = Connection(is_client=False)
        self.validator = FrameValidator()

    def to_server(self, frame: bytes | None) -> list[Event]:
        assert frame is not None
        self.validator.check(frame, "c2s")
        return self.server.receive(frame)

    def to_client(self, frame: bytes | None) -> list[Event]:
        assert frame is not None
        self.validator.check(frame, "s2c")
        return self.client.receive(frame)

    def request(self, method: str, params: Any = None, **kw: Any) -> tuple[int, RequestReceived]:
        rid, frame = self.client.send_request(method, params, **kw)
        (event,) = self.to_server(frame)
        assert isinstance(event, RequestReceived), event
        return rid, event

    def initialize(
        self, version: str = "2025-11-25", capabilities: dict[str, Any] | None = None
    ) -> None:
        from mcpkit.protocol.types import Implementation, InitializeResult, ServerCapabilities

        params = {
            "protocolVersion": version,
            "capabilities": capabilities or {},
            "clientInfo": {"name": "test-client", "version": "1"},
        }
        _, event = self.request("initialize", params)
        result = InitializeResult(
            protocol_version=event.version,
            capabilities=ServerCapabilities(),
            server_info=Implementation(name="test-server", version="1"),
        )
        self.to_client(self.server.send_result(event.id, result))
        self.to_server(self.client.send_notification("notifications/initialized"))
