"""`Header(...)`: mark a tool parameter for the `Mcp-Param-*` HTTP header (`x-mcp-header`).

Layer: server. `Annotated[str, Header("Region")]` puts `"x-mcp-header": "Region"` on the
parameter's schema, so HTTP clients send its value as `Mcp-Param-Region` and gateways can
route on it without reading bodies. The rules are checked at registration
(`mcpkit.protocol.headers.check_headers`).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mcpkit.protocol.headers import HEADER_KEY

__all__ = ["Header"]


def Header(name: str, *, description: str | None = None) -> Any:
    """Mark a tool parameter to be mirrored into the `Mcp-Param-<name>` HTTP header.

    Do not mark sensitive parameters: headers are logged by proxies.
    """
    return Field(description=description, json_schema_extra={HEADER_KEY: name})
