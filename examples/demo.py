"""The main job until the inspector exists: start `echo_server.py` over stdio and drive it.

It connects twice, once letting the client negotiate (a modern `server/discover` probe)
and once forcing the legacy `initialize` handshake, and prints what happens.
"""

from __future__ import annotations

import sys
from pathlib import Path

import mcpkit
from mcpkit.client import Client

SERVER = [sys.executable, str(Path(__file__).with_name("echo_server.py"))]


async def drive(era: str) -> None:
    async with Client(SERVER, era=era) as client:  # type: ignore[arg-type]
        era_name = client.era.value if client.era else "?"
        name = client.server_info.get("name")
        print(f"connected to {name} — {era_name} era, protocol {client.protocol_version}")
        print(f"  instructions: {client.instructions}")
        await client.ping()
        print("  ping: ok")
        for tool in await client.list_tools():
            print(f"  tool {tool.name}: {tool.description}")
        result = await client.call_tool("echo", {"text": "hello, MCP"})
        print(f"  echo → {result.content[0].text}")  # type: ignore[union-attr]
        result = await client.call_tool("add", {"a": 2, "b": 40})
        print(f"  add(2, 40) → {result.content[0].text}")  # type: ignore[union-attr]
        result = await client.call_tool("add", {"a": 2})
        print(f"  add(2) → error={result.is_error}: {result.content[0].text}")  # type: ignore[union-attr]


async def main() -> None:
    for era in ("auto", "legacy"):
        await drive(era)


if __name__ == "__main__":
    mcpkit.run(main)
