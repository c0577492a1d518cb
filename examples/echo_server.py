"""A small MCP server: two tools, served over stdio in both eras.

Run it directly (`python examples/echo_server.py`) and talk to it with any MCP client, or
let `examples/demo.py` start it and drive it.
"""

from __future__ import annotations

from typing import Any

from mcpkit.server import Server

server = Server("echo-server", instructions="Echoes text and adds numbers.")


def echo(arguments: dict[str, Any]) -> str:
    """Return the text you send."""
    print("echo called")  # goes to stderr: stdout is reserved for the protocol
    return str(arguments.get("text", ""))


async def add(arguments: dict[str, Any]) -> str:
    """Add two integers."""
    return str(int(arguments["a"]) + int(arguments["b"]))


server.add_tool(
    echo,
    input_schema={
        "type": "object",
        "properties": {"text": {"type": "string"}},
        "required": ["text"],
    },
)
server.add_tool(
    add,
    input_schema={
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    },
)

if __name__ == "__main__":
    server.run()
