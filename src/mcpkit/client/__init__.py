"""The MCP client: connect to one server, negotiate the era, send requests; read host config
files; talk to many servers at once.

Layer: client. Built on protocol, transports and the peer engine; never on the server.
"""

from mcpkit.client.client import Client, EraChoice, Servable
from mcpkit.client.config import ConfigError, ServerConfig, load_config
from mcpkit.client.features import TooManyRounds
from mcpkit.client.group import ClientGroup, GroupTool
from mcpkit.client.handlers import Handlers
from mcpkit.client.subscriptions import ChangeEvent, Subscription

__all__ = [
    "ChangeEvent",
    "Client",
    "ClientGroup",
    "ConfigError",
    "EraChoice",
    "GroupTool",
    "Handlers",
    "Servable",
    "ServerConfig",
    "Subscription",
    "TooManyRounds",
    "load_config",
]
