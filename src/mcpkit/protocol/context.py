"""The modern era's per-request context, read from `params._meta`.

Layer: protocol (sans-I/O). Pure.

In 2026-07-28 every request carries what a legacy session learned once at `initialize`:
the protocol version, the client's capabilities and (optionally) its info, plus the log level
and progress token for this request. A server must not carry any of it across requests
(spec: basic/index, "Statelessness"). `RequestContext.from_meta` validates those keys with
the spec's errors: a missing required key is -32602, an unsupported version -32022.
`RequestContext.require` raises -32021 for an undeclared capability.
"""

from __future__ import annotations

from typing import Any, Final, get_args

import msgspec

from mcpkit.protocol.errors import (
    InvalidParams,
    MissingRequiredClientCapability,
    UnsupportedProtocolVersion,
)
from mcpkit.protocol.types import LoggingLevel

__all__ = [
    "CLIENT_CAPABILITIES",
    "CLIENT_INFO",
    "LOG_LEVEL",
    "PROTOCOL_VERSION",
    "SERVER_INFO",
    "SUBSCRIPTION_ID",
    "RequestContext",
    "has_capability",
    "missing_capabilities",
]

PROTOCOL_VERSION: Final = "io.modelcontextprotocol/protocolVersion"
CLIENT_CAPABILITIES: Final = "io.modelcontextprotocol/clientCapabilities"
CLIENT_INFO: Final = "io.modelcontextprotocol/clientInfo"
LOG_LEVEL: Final = "io.modelcontextprotocol/logLevel"
SERVER_INFO: Final = "io.modelcontextprotocol/serverInfo"
SUBSCRIPTION_ID: Final = "io.modelcontextprotocol/subscriptionId"
PROGRESS_TOKEN: Final = "progressToken"

_LEVELS: Final = frozenset(get_args(LoggingLevel))


def has_capability(capabilities: dict[str, Any], path: tuple[str, ...]) -> bool:
    """Whether a capabilities object declares `path` (e.g. `("resources", "subscribe")`).

    A leaf that is `False` or absent is undeclared; an object (even `{}`) or `True` declares it.
    """
    node: Any = capabilities
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return node is not False and node is not None


def missing_capabilities(
    declared: dict[str, Any], required: dict[str, Any], _prefix: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The part of `required` (a capabilities object) that `declared` lacks, as an object.

    Used to build the `requiredCapabilities` data of a -32021 error.
    """
    missing: dict[str, Any] = {}
    for key, sub in required.items():
        path = (*_prefix, key)
        if isinstance(sub, dict) and sub:
            inner = missing_capabilities(declared, sub, path)
            if inner:
                missing[key] = inner
        elif not has_capability(declared, path):
            missing[key] = sub
    return missing


class RequestContext(msgspec.Struct, frozen=True):
    """What one modern request says about its client. Built only by `from_meta`."""

    version: str
    client_capabilities: dict[str, Any]
    client_info: dict[str, Any] | None = None
    log_level: LoggingLevel | None = None
    progress_token: str | int | None = None
    meta: dict[str, Any] = msgspec.field(default_factory=dict)

    @classmethod
    def from_meta(cls, meta: Any, supported: tuple[str, ...]) -> RequestContext:
        """Validate the `_meta` of a modern request.

        Raises:
            InvalidParams: a required key is missing or a value has the wrong shape (-32602).
            UnsupportedProtocolVersion: the version is not in `supported` (-32022).
        """
        if not isinstance(meta, dict):
            raise InvalidParams("params._meta is required and must be an object")
        version = meta.get(PROTOCOL_VERSION)
        if not isinstance(version, str):
            raise InvalidParams(f"params._meta is missing {PROTOCOL_VERSION!r}")
        caps = meta.get(CLIENT_CAPABILITIES)
        if not isinstance(caps, dict):
            raise InvalidParams(f"params._meta is missing {CLIENT_CAPABILITIES!r} (an object)")
        if version not in supported:
            raise UnsupportedProtocolVersion.for_version(version, list(supported))
        return cls(
            version=version,
            client_capabilities=caps,
            client_info=_client_info(meta.get(CLIENT_INFO)),
            log_level=_log_level(meta.get(LOG_LEVEL)),
            progress_token=_progress_token(meta.get(PROGRESS_TOKEN)),
            meta=meta,
        )

    def has(self, *path: str) -> bool:
        """Whether this request declared the client capability at `path`."""
        return has_capability(self.client_capabilities, path)

    def require(self, required: dict[str, Any]) -> None:
        """Raise -32021 unless this request declared every capability in `required`.

        Raises:
            MissingRequiredClientCapability: listing exactly what is missing.
        """
        missing = missing_capabilities(self.client_capabilities, required)
        if missing:
            raise MissingRequiredClientCapability.for_capabilities(missing)


def _client_info(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise InvalidParams(f"{CLIENT_INFO!r} must be an Implementation object with a name")
    return value


def _log_level(value: Any) -> LoggingLevel | None:
    if value is None:
        return None
    if value not in _LEVELS:
        raise InvalidParams(f"{LOG_LEVEL!r} must be one of {', '.join(sorted(_LEVELS))}")
    level: LoggingLevel = value
    return level


def _progress_token(value: Any) -> str | int | None:
    if value is None or (isinstance(value, str | int) and not isinstance(value, bool)):
        return value
    raise InvalidParams("progressToken must be a string or an integer")
