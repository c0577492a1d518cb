"""A small MCP server: two tools, served over stdio in both eras.

Run it directly (`python examples/echo_server.py`) and talk to it with any MCP client, or
let `examples/demo.py` start it and drive it.
"""

from __future__ import annotations

from mcpkit.server import Server

server = Server("echo-server", instructions="Echoes text and adds numbers.")


@server.tool()
def echo(text: str) -> str:
    """Return the text you send."""
    print("echo called")  # goes to stderr: stdout is reserved for the protocol
    return text


@server.tool()
async def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


if __name__ == "__main__":
    server.run()
