"""Every exception mcpkit raises, drawn in one tree, and the one mapping to JSON-RPC errors.

Layer: protocol (sans-I/O). Pure data; no I/O, no logging.

```
MCPKitError
  ProtocolError                  .code: the JSON-RPC code to answer with
    LocalProtocolError           we were asked to send something illegal
    RemoteProtocolError          the peer sent bad JSON, an unknown method, wrong params, ...
      FrameTooLarge              a frame over the size limit (discarded, connection goes on)
  RPCError(code, message, data)  a JSON-RPC error response; raised by handlers to answer with
                                 it, and raised to callers when a peer answers with it
    ParseError -32700, InvalidRequest -32600, MethodNotFound -32601, InvalidParams -32602,
    InternalError -32603, HeaderMismatch -32020, MissingRequiredClientCapability -32021,
    UnsupportedProtocolVersion -32022, ResourceNotFound -32002 (legacy),
    URLElicitationRequired -32042 (legacy)
  TransportError
    ConnectError                 could not connect / the process would not start
    ClosedError                  we closed the connection
    BrokenError                  the peer did (exited, hung up); stderr tail attached
  RequestTimeout                 no answer in time (local; has no JSON-RPC code)
  RequestCancelled               the request was cancelled before it finished
  AuthError
    OAuthFlowError, TokenError, InsufficientScopeError
  ToolError                      raised by tool code; becomes an isError result the model can read
```

`error_for(exc)` is the single place an exception becomes a JSON-RPC error object, and
`rpc_error_from(code, message, data)` the single place one becomes an exception again.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AuthError",
    "BrokenError",
    "ClosedError",
    "ConnectError",
    "FrameTooLarge",
    "HeaderMismatch",
    "InsufficientScopeError",
    "InternalError",
    "InvalidParams",
    "InvalidRequest",
    "LocalProtocolError",
    "MCPKitError",
    "MethodNotFound",
    "MissingRequiredClientCapability",
    "OAuthFlowError",
    "ParseError",
    "ProtocolError",
    "RPCError",
    "RemoteProtocolError",
    "RequestCancelled",
    "RequestTimeout",
    "ResourceNotFound",
    "TokenError",
    "ToolError",
    "TransportError",
    "URLElicitationRequired",
    "UnsupportedProtocolVersion",
    "error_for",
    "rpc_error_from",
]

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
HEADER_MISMATCH = -32020
MISSING_REQUIRED_CLIENT_CAPABILITY = -32021
UNSUPPORTED_PROTOCOL_VERSION = -32022
RESOURCE_NOT_FOUND = -32002
URL_ELICITATION_REQUIRED = -32042


class MCPKitError(Exception):
    """The root of every exception mcpkit raises on purpose."""


class ProtocolError(MCPKitError):
    """A violation of the protocol, by us or by the peer.

    `code` is the JSON-RPC error code to answer with; `request_id` is the id of the offending
    request when it could be read (so the error response can echo it).
    """

    code: int = INVALID_REQUEST

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        data: Any = None,
        request_id: str | int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.data = data
        self.request_id = request_id


class LocalProtocolError(ProtocolError):
    """We were asked to send something the protocol forbids (a bug in the caller)."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something the protocol forbids: bad JSON, wrong shape, bad params."""


class FrameTooLarge(RemoteProtocolError):
    """A frame exceeded the size limit. It was discarded; the connection goes on."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"frame of {size}+ bytes exceeds the limit of {limit} bytes")
        self.size = size
        self.limit = limit


class RPCError(MCPKitError):
    """A JSON-RPC error response.

    Handlers raise it (or a subclass) to answer a request with that error; callers catch it
    when the peer answered their request with an error. Subclasses exist per spec code, and
    `rpc_error_from` picks the right one for a received code.
    """

    code: int = INTERNAL_ERROR
    _by_code: ClassVar[dict[int, type[RPCError]]] = {}

    def __init__(self, message: str, data: Any = None, *, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data
        if code is not None:
            self.code = code

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        RPCError._by_code.setdefault(cls.code, cls)

    def __str__(self) -> str:
        return f"{self.message} (code {self.code})"


class ParseError(RPCError):
    code = PARSE_ERROR


class InvalidRequest(RPCError):
    code = INVALID_REQUEST


class MethodNotFound(RPCError):
    code = METHOD_NOT_FOUND


class InvalidParams(RPCError):
    code = INVALID_PARAMS


class InternalError(RPCError):
    code = INTERNAL_ERROR


class HeaderMismatch(RPCError):
    """Modern HTTP: a `Mcp-*` header is missing or disagrees with the body."""

    code = HEADER_MISMATCH


class MissingRequiredClientCapability(RPCError):
    """Modern: the request needs a client capability it did not declare.

    `data` is `{"requiredCapabilities": <ClientCapabilities object>}`.
    """

    code = MISSING_REQUIRED_CLIENT_CAPABILITY

    @classmethod
    def for_capabilities(cls, required: dict[str, Any]) -> MissingRequiredClientCapability:
        names = ", ".join(sorted(required)) or "unknown"
        return cls(
            f"this request needs client capabilities not declared on it: {names}",
            {"requiredCapabilities": required},
        )


class UnsupportedProtocolVersion(RPCError):
    """Modern: the requested protocol version is not served. `data` names both sides."""

    code = UNSUPPORTED_PROTOCOL_VERSION

    @classmethod
    def for_version(cls, requested: str, supported: list[str]) -> UnsupportedProtocolVersion:
        return cls(
            f"protocol version {requested!r} is not supported; supported: {', '.join(supported)}",
            {"supported": supported, "requested": requested},
        )


class ResourceNotFound(RPCError):
    """Legacy code for a missing resource (modern servers answer -32602 instead)."""

    code = RESOURCE_NOT_FOUND


class URLElicitationRequired(RPCError):
    """Legacy (2025-11-25): the request needs a URL-mode elicitation first."""

    code = URL_ELICITATION_REQUIRED


class TransportError(MCPKitError):
    """The connection to the peer failed."""


class ConnectError(TransportError):
    """Could not connect, or the server process would not start or answer."""


class ClosedError(TransportError):
    """The connection was closed by us; nothing more can be sent or received."""


class BrokenError(TransportError):
    """The peer went away (process exited, pipe or socket broke).

    For stdio the message carries the exit code and the tail of the server's stderr.
    """


class RequestTimeout(MCPKitError):
    """No answer arrived in time. Local only: it has no JSON-RPC code."""


class RequestCancelled(MCPKitError):
    """The request was cancelled before it finished."""


class AuthError(MCPKitError):
    """Authorization failed."""


class OAuthFlowError(AuthError):
    """An OAuth flow could not complete (discovery, registration, authorization)."""


class TokenError(AuthError):
    """A token was missing, invalid, or could not be obtained or refreshed."""


class InsufficientScopeError(AuthError):
    """The token lacks a scope the request needs."""


class ToolError(MCPKitError):
    """Raised by tool code: becomes an `isError: true` result whose text the model can read."""


def error_for(exc: BaseException) -> tuple[int, str, Any]:
    """Map any exception to the (code, message, data) of the JSON-RPC error that answers it.

    The one boundary where exceptions become wire errors. Unknown exceptions become
    -32603 with a generic message: internals are never leaked to the peer.
    """
    if isinstance(exc, RPCError):
        return exc.code, exc.message, exc.data
    if isinstance(exc, ProtocolError):
        return exc.code, exc.message, exc.data
    return INTERNAL_ERROR, "internal error", None


def rpc_error_from(code: int, message: str, data: Any = None) -> RPCError:
    """The exception for an error response the peer sent: the subclass for its code."""
    cls = RPCError._by_code.get(code, RPCError)
    return cls(message, data, code=code)
