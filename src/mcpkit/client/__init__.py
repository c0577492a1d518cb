"""The MCP client: connect to one server, negotiate the era, send requests; read host config
files; talk to many servers at once.

Layer: client. Built on protocol, transports and the peer engine; never on the server.
"""

from mcpkit.client.client import Client, EraChoice, Servable
from mcpkit.client.config import ConfigError, ServerConfig, load_config
from mcpkit.client.group import ClientGroup, GroupTool

__all__ = [
    "Client",
    "ClientGroup",
    "ConfigError",
    "EraChoice",
    "GroupTool",
    "Servable",
    "ServerConfig",
    "load_config",
]
