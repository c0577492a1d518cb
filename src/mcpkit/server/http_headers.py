"""Modern Streamable HTTP: the `Mcp-*` request headers checked against the JSON-RPC body.

Layer: server (the HTTP binding of the server). Pure: no I/O, no ASGI; `http.py` calls it with
the request's headers (names lower-cased, values as received) and the parsed body.

Why: in 2026-07-28 a request mirrors its version, method and target in headers so gateways
can route without reading bodies; a server that does read the body MUST reject any header
that is missing, malformed or disagrees with it (`400` + `-32020`, spec
basic/transports/streamable-http, "Request headers"). Header names are compared
case-insensitively (the caller lower-cases them), values exactly after trimming surrounding
whitespace; `=?base64?...?=` values are decoded before comparing.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from mcpkit.protocol.context import PROTOCOL_VERSION
from mcpkit.protocol.errors import HeaderMismatch
from mcpkit.protocol.headers import HEADER_KEY

__all__ = [
    "METHOD_HEADER",
    "NAME_HEADER",
    "PARAM_PREFIX",
    "VERSION_HEADER",
    "SchemaLookup",
    "check_modern_headers",
    "decode_value",
]

VERSION_HEADER: Final = "mcp-protocol-version"
METHOD_HEADER: Final = "mcp-method"
NAME_HEADER: Final = "mcp-name"
PARAM_PREFIX: Final = "mcp-param-"
# Which body field `Mcp-Name` mirrors, per method.
_NAME_FIELD: Final = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}
_SENTINEL_START: Final = "=?base64?"
_SENTINEL_END: Final = "?="
_CONTROL: Final = re.compile("[\x00-\x1f\x7f]")

SchemaLookup = Callable[[str], Mapping[str, Any] | None]
"""A tool's name → its input schema (None for an unknown tool)."""


def decode_value(raw: str) -> str:
    """A header value as the client meant it: trimmed, and base64-decoded when wrapped.

    Raises:
        HeaderMismatch: the value has control characters or its base64 is malformed.
    """
    value = raw.strip(" \t")
    if _CONTROL.search(value):
        raise HeaderMismatch("header value has control characters")
    if not (value.startswith(_SENTINEL_START) and value.endswith(_SENTINEL_END)):
        return value
    inner = value[len(_SENTINEL_START) : -len(_SENTINEL_END)]
    try:
        return base64.b64decode(inner, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise HeaderMismatch(f"header value {value!r} is not valid base64 UTF-8") from None


def check_modern_headers(
    headers: Mapping[str, str], message: Mapping[str, Any], tool_schema: SchemaLookup
) -> None:
    """Check a modern POST's headers against its body (a request or a notification).

    `headers` must have lower-cased names. The body's `_meta` must already be known to name
    a protocol version (missing `_meta` is -32602, checked before this).

    Raises:
        HeaderMismatch: a required header is missing, malformed or disagrees with the body.
    """
    params = _object(message.get("params"))
    meta = _object(params.get("_meta"))
    version = meta.get(PROTOCOL_VERSION)
    if "id" not in message:  # a notification: only the version header, and _meta may be absent
        if version is None and VERSION_HEADER not in headers:
            raise HeaderMismatch(f"missing required header {VERSION_HEADER!r}")
        if version is not None:
            _expect(headers, VERSION_HEADER, version, "_meta protocolVersion")
        return
    _expect(headers, VERSION_HEADER, version, "_meta protocolVersion")
    method = message.get("method")
    _expect(headers, METHOD_HEADER, method, "method")
    field = _NAME_FIELD.get(str(method))
    if field is not None:
        _expect(headers, NAME_HEADER, params.get(field), f"params.{field}")
    if method == "tools/call" and isinstance(params.get("name"), str):
        schema = tool_schema(params["name"])
        if schema is not None:
            _check_params(headers, schema, params.get("arguments"))


def _expect(headers: Mapping[str, str], name: str, body_value: Any, what: str) -> None:
    raw = headers.get(name)
    if raw is None:
        raise HeaderMismatch(f"missing required header {name!r} (it mirrors {what})")
    if decode_value(raw) != body_value:
        raise HeaderMismatch(f"header {name!r} does not match {what}")


def _check_params(headers: Mapping[str, str], schema: Mapping[str, Any], arguments: Any) -> None:
    """`Mcp-Param-<Name>` for each `x-mcp-header` argument present and not null."""
    args = arguments if isinstance(arguments, dict) else {}
    properties = schema.get("properties")
    for prop, sub in (properties if isinstance(properties, dict) else {}).items():
        name = sub.get(HEADER_KEY) if isinstance(sub, dict) else None
        if not isinstance(name, str):
            continue
        header = PARAM_PREFIX + name.lower()
        value = args.get(prop)
        raw = headers.get(header)
        if value is None:
            continue  # servers MUST NOT expect the header for null or absent values
        if raw is None:
            raise HeaderMismatch(f"missing header 'Mcp-Param-{name}' for argument {prop!r}")
        if not _same_param(decode_value(raw), value):
            raise HeaderMismatch(f"header 'Mcp-Param-{name}' does not match argument {prop!r}")


def _same_param(text: str, value: Any) -> bool:
    if isinstance(value, bool):
        return text == ("true" if value else "false")
    if isinstance(value, int):
        try:
            return int(text) == value  # integers are compared numerically
        except ValueError:
            return False
    return bool(text == value)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
