"""Pre-built MCP servers, one package each, independent of each other.

Layer: applications. Each server uses only the public API (`mcpkit`, `mcpkit.server`,
`mcpkit.protocol.*`), never `mcpkit.client`, so it is also an example of how to write one.
`SERVERS` names them for `mcpkit server NAME`: each entry is a `module:factory` target (a
function returning a `Server`), resolved only when that server is started, so importing
this package loads none of them.
"""

from __future__ import annotations

from typing import Final

__all__ = ["SERVERS"]

SERVERS: Final[dict[str, str]] = {
    "everything": "mcpkit.servers.everything:build",
}
