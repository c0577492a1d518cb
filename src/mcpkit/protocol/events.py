"""What the sans-I/O `Connection` tells its caller happened.

Layer: protocol (sans-I/O). Frozen msgspec structs (built in C: a frozen dataclass spent
~1 µs of every request on `object.__setattr__`); the I/O layer matches on them. They are
never subclassed, so hot paths may tell them apart by `type(event) is ...`: an
`isinstance` that fails against a struct class goes through its metaclass's
`__instancecheck__`, ~100 ns each.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import msgspec

from mcpkit.protocol.context import RequestContext
from mcpkit.protocol.errors import MCPKitError, ProtocolError
from mcpkit.protocol.versions import Era

__all__ = [
    "CancelReceived",
    "ErrorReceived",
    "Event",
    "NotificationReceived",
    "ProgressReceived",
    "ProtocolViolation",
    "RequestReceived",
    "ResponseReceived",
]


class RequestReceived(msgspec.Struct, frozen=True):
    """The peer asks us something; answer with `Connection.send_result`/`send_error`.

    `params` is the typed params struct of the method (a dict for methods MCP does not
    define). `era`/`version` say which rules the request is served under; `context` is the
    modern per-request context (None for legacy requests).
    """

    id: int | str
    method: str
    params: Any
    era: Era
    version: str
    context: RequestContext | None = None


class NotificationReceived(msgspec.Struct, frozen=True):
    method: str
    params: Any


class ResponseReceived(msgspec.Struct, frozen=True):
    """The answer to a request we sent; `result` is the typed result struct."""

    id: int | str
    method: str
    result: Any


class ErrorReceived(msgspec.Struct, frozen=True):
    """A request we sent ended in an error: the peer's error response (`RPCError`), an
    answer we could not accept (`RemoteProtocolError`), or the connection closing."""

    id: int | str
    method: str
    error: MCPKitError


class CancelReceived(msgspec.Struct, frozen=True):
    """The peer cancelled a request we are handling: stop it; no answer will be sent."""

    request_id: int | str
    reason: str | None


class ProgressReceived(msgspec.Struct, frozen=True):
    """Progress for a request we sent (already checked to increase)."""

    request_id: int | str
    progress: float
    total: float | None
    message: str | None


class ProtocolViolation(msgspec.Struct, frozen=True):
    """The peer sent something bad. `reply` is the error frame to send back, if one is due
    (a request or unparseable frame gets one; a bad notification or stray response not)."""

    error: ProtocolError
    reply: bytes | None


Event: TypeAlias = (
    RequestReceived
    | NotificationReceived
    | ResponseReceived
    | ErrorReceived
    | CancelReceived
    | ProgressReceived
    | ProtocolViolation
)
