"""The MCP client: connect to one server, negotiate the era, send requests.

Layer: client. Built on protocol, transports and the peer engine; never on the server.
"""

from mcpkit.client.client import Client, EraChoice, Servable

__all__ = ["Client", "EraChoice", "Servable"]
