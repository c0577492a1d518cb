"""mcpkit: the Model Context Protocol, complete, in Python.

The few names most users need live here; everything else is in the subpackages
(`mcpkit.protocol`, `mcpkit.transports`, `mcpkit.server`, `mcpkit.client`).
"""

from mcpkit._version import __version__

__all__ = ["__version__"]
