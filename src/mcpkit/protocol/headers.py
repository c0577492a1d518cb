"""`x-mcp-header`: tool parameters mirrored into HTTP headers (spec 2026-07-28, server/tools).

Layer: protocol (pure). A tool's input schema may mark top-level parameters with
`"x-mcp-header": "Region"` so that HTTP clients send the value as `Mcp-Param-Region`. The spec
constrains the annotation: clients MUST drop tools that break it, and servers check their
own tools at registration, both with `check_headers`.
"""

from __future__ import annotations

import re
from typing import Any, Final

__all__ = ["HEADER_KEY", "check_headers"]

HEADER_KEY: Final = "x-mcp-header"
_TOKEN: Final = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # RFC 9110 token
_ALLOWED_TYPES: Final = frozenset({"string", "integer", "boolean"})


def check_headers(tool_name: str, input_schema: dict[str, Any]) -> None:
    """Check every `x-mcp-header` annotation of an input schema against the spec's rules.

    Raises:
        ValueError: a name that is not an HTTP token, a duplicate (case-insensitively), or an
            annotation on something other than a top-level string, integer or boolean.
    """
    seen: set[str] = set()
    for prop_name, prop in input_schema.get("properties", {}).items():
        name = prop.get(HEADER_KEY) if isinstance(prop, dict) else None
        if name is None:
            continue
        where = f"tool {tool_name!r}, parameter {prop_name!r}"
        if not isinstance(name, str) or not _TOKEN.match(name):
            raise ValueError(f"{where}: x-mcp-header {name!r} is not an HTTP token")
        if name.lower() in seen:
            raise ValueError(f"{where}: x-mcp-header {name!r} is used twice")
        seen.add(name.lower())
        if prop.get("type") not in _ALLOWED_TYPES:
            raise ValueError(f"{where}: x-mcp-header is only allowed on string, integer or boolean")
