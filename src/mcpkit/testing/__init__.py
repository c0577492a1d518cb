"""Test tooling for MCP peers: schema-checked frames and transports that check them.

Layer: testing, above protocol, transports, server and client (it may use any of them) and
below the cli. The library never imports it. It is public because users testing their own
servers and clients need the same referee mcpkit's own tests use. It needs the `testing` extra
(`pip install "mcpkit[testing]"`, which brings `jsonschema`), and the official JSON Schemas in
a folder of `<version>/schema.json` files: pass it as `schema_dir`, or set `MCPKIT_SCHEMA_DIR`;
in a source checkout `tests/spec` is found by itself.
"""

from mcpkit.testing.frames import (
    SCHEMA_DIR_ENV,
    VERSION_META_KEY,
    Direction,
    FrameRecord,
    FrameSchemaError,
    FrameValidator,
    default_schema_dir,
)
from mcpkit.testing.transports import Side, ValidatingTransport

__all__ = [
    "SCHEMA_DIR_ENV",
    "VERSION_META_KEY",
    "Direction",
    "FrameRecord",
    "FrameSchemaError",
    "FrameValidator",
    "Side",
    "ValidatingTransport",
    "default_schema_dir",
]
