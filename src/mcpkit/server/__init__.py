"""The MCP server: serve both eras on any transport.

Layer: server. Built on protocol, transports and the peer engine; never on the client.
"""

from mcpkit.server.server import Server, Session

__all__ = ["Server", "Session"]
