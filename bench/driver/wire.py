"""What goes on the wire: request bytes and answer checks for the echo/add workload.

Both eras: legacy requests are plain JSON-RPC inside an `initialize` session; modern
(2026-07-28) requests carry the session's facts in `params._meta` instead, and over HTTP
the headers that mirror the body (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`).
Tool-call bodies are pre-built: only the id is spliced in per call.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Final

import msgspec

LEGACY_VERSION: Final = "2025-11-25"
MODERN_VERSION: Final = "2026-07-28"
CLIENT_INFO: Final = {"name": "mcpkit-bench-driver", "version": "1"}

encode = msgspec.json.encode
_decoder = msgspec.json.Decoder()


def decode(data: bytes | bytearray) -> Any:
    return _decoder.decode(data)


class Era(Enum):
    LEGACY = "legacy"
    MODERN = "modern"


MODERN_META: Final = {
    "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": CLIENT_INFO,
}


def make_text(nbytes: int) -> str:
    """`nbytes` of printable ASCII that JSON carries unescaped."""
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ "
    return (alphabet * (nbytes // len(alphabet) + 1))[:nbytes]


def request(mid: int, method: str, params: dict[str, Any], era: Era) -> dict[str, Any]:
    if era is Era.MODERN:
        params = {**params, "_meta": MODERN_META}
    return {"jsonrpc": "2.0", "id": mid, "method": method, "params": params}


def initialize(mid: int) -> dict[str, Any]:
    params = {"protocolVersion": LEGACY_VERSION, "capabilities": {}, "clientInfo": CLIENT_INFO}
    return request(mid, "initialize", params, Era.LEGACY)


INITIALIZED: Final = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def http_headers(method: str, era: Era, name: str | None = None) -> list[tuple[str, str]]:
    """The MCP headers of a POST (besides the session id)."""
    if era is Era.LEGACY:
        return [("MCP-Protocol-Version", LEGACY_VERSION)]
    headers = [("MCP-Protocol-Version", MODERN_VERSION), ("Mcp-Method", method)]
    if name is not None:
        headers.append(("Mcp-Name", name))
    return headers


def tool_names(message: Any) -> set[str]:
    result = message.get("result") if isinstance(message, dict) else None
    tools = result.get("tools") if isinstance(result, dict) else None
    return {str(t.get("name")) for t in tools or [] if isinstance(t, dict)}


class Workload:
    """One kind of tools/call: `echo` of `nbytes` of text, or `add(40, 2)`."""

    def __init__(self, tool: str, nbytes: int = 10, era: Era = Era.LEGACY) -> None:
        self.tool = tool
        self.era = era
        self.text = make_text(nbytes) if tool == "echo" else ""
        arguments = {"text": self.text} if tool == "echo" else {"a": 40, "b": 2}
        template = encode(request(0, "tools/call", {"name": tool, "arguments": arguments}, era))
        prefix = b'{"jsonrpc":"2.0","id":0,'
        assert template.startswith(prefix)
        self._head = b'{"jsonrpc":"2.0","id":'
        self._tail = b"," + template[len(prefix) :]
        self._tail_line = self._tail + b"\n"

    def body(self, mid: int) -> bytes:
        return self._head + str(mid).encode() + self._tail

    def line(self, mid: int) -> bytes:
        """The request as one newline-terminated stdio line."""
        return self._head + str(mid).encode() + self._tail_line

    def check(self, message: Any) -> bool:
        """Is this the right answer (echo: the same text; add: 42, structured)?"""
        result = message.get("result") if isinstance(message, dict) else None
        if not isinstance(result, dict) or result.get("isError") is True:
            return False
        if self.era is Era.MODERN and result.get("resultType", "complete") != "complete":
            return False
        content = result.get("content")
        if not isinstance(content, list) or not content:
            return False
        if self.tool == "echo":
            return len(content) == 1 and content[0].get("text") == self.text
        structured = result.get("structuredContent")
        return isinstance(structured, dict) and structured.get("result") == 42
