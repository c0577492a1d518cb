"""mcpkit: the Model Context Protocol, complete, in Python.

The few names most users need live here; everything else is in the subpackages
(`mcpkit.protocol`, `mcpkit.transports`, `mcpkit.server`, `mcpkit.client`, `mcpkit.testing`).
They load on first use, so `import mcpkit.protocol` stays free of I/O libraries and
`import mcpkit` stays fast. Importing mcpkit configures no logging and patches nothing.
`mcpkit.run(main)` runs a program's top-level coroutine on the fastest loop installed.
"""

import importlib as _importlib
import typing as _typing

from mcpkit._version import __version__

if _typing.TYPE_CHECKING:
    from mcpkit._runtime import run
    from mcpkit.client import Client
    from mcpkit.protocol.errors import MCPKitError, RPCError, ToolError
    from mcpkit.server import Server

__all__ = ["Client", "MCPKitError", "RPCError", "Server", "ToolError", "__version__", "run"]

_LAZY = {
    "Client": "mcpkit.client",
    "Server": "mcpkit.server",
    "MCPKitError": "mcpkit.protocol.errors",
    "RPCError": "mcpkit.protocol.errors",
    "ToolError": "mcpkit.protocol.errors",
    "run": "mcpkit._runtime",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mcpkit' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value
