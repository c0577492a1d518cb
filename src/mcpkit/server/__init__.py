"""The MCP server framework: register Python functions, serve both eras on any transport.

Layer: server. Built on protocol, transports and the peer engine; never on the client.
"""

from mcpkit.protocol.errors import ToolError
from mcpkit.server.content import Audio, EmbeddedBlob, EmbeddedText, Image, Link
from mcpkit.server.context import Context
from mcpkit.server.headers import Header
from mcpkit.server.resources import CachePolicy
from mcpkit.server.server import Server
from mcpkit.server.session import Session

__all__ = [
    "Audio",
    "CachePolicy",
    "Context",
    "EmbeddedBlob",
    "EmbeddedText",
    "Header",
    "Image",
    "Link",
    "Server",
    "Session",
    "ToolError",
]
