"""`Context`: what a handler may know and do during one request, the same in both eras.

Layer: server. Handlers receive it by declaring a parameter annotated `Context`.
It hides the era: `log`, `progress`, `elicit`, `sample` and `roots` do the right thing for a
legacy session (notifications, real server→client requests) and for a modern request
(per-request log level, MRTR asks; see `asks.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, get_args

import msgspec

from mcpkit.auth.caller import AccessToken, current_access
from mcpkit.protocol.context import has_capability
from mcpkit.protocol.errors import MissingRequiredClientCapability, ToolError
from mcpkit.protocol.events import RequestReceived
from mcpkit.protocol.types import (
    CreateMessageResult,
    ElicitResult,
    LoggingLevel,
    Root,
)
from mcpkit.protocol.versions import Era
from mcpkit.server.asks import Asks

if TYPE_CHECKING:
    from mcpkit.server.server import Server
    from mcpkit.server.session import Session

__all__ = ["ClientView", "Context"]

_LEVELS: Final[tuple[str, ...]] = get_args(LoggingLevel)
_RANK: Final = {
    "debug": 0,
    "info": 1,
    "notice": 2,
    "warning": 3,
    "error": 4,
    "critical": 5,
    "alert": 6,
    "emergency": 7,
}


class ClientView(msgspec.Struct, frozen=True):
    """The client as a handler sees it. `info` is self-reported: for display and logs, never
    for security decisions (spec: basic/index)."""

    info: dict[str, Any]
    capabilities: dict[str, Any]

    def has(self, *path: str) -> bool:
        """Whether the client declared the capability at `path` (e.g. `"sampling", "tools"`)."""
        return has_capability(self.capabilities, path)


class Context:
    """The handler's view of its request.

    Attributes:
        request_id: the JSON-RPC id of the request.
        era / version: which protocol rules the request is served under.
        client_info: the client's `Implementation` as a dict (self-reported; display only).
        client_capabilities: what the client declared (per request in modern, per session
            in legacy).
        state: small JSON values that survive MRTR rounds (sealed into `requestState`).
        lifespan: what the server's lifespan yielded, if it has one.
        auth: the caller's `AccessToken` (subject, client, scopes) when the HTTP app is
            protected (`http_app(auth=...)`); None otherwise. Never the token itself.
    """

    def __init__(
        self,
        server: Server,
        session: Session,
        request: RequestReceived,
        *,
        asks: Asks | None = None,
        state: dict[str, Any] | None = None,
    ) -> None:
        self.server = server
        self.session = session
        self.request = request
        self.request_id = request.id
        self.era = request.era
        self.version = request.version
        self.state: dict[str, Any] = state if state is not None else {}
        self.auth: AccessToken | None = current_access.get()
        self._asks = asks  # modern only: a legacy ask is a real request
        ctx = request.context
        if ctx is not None:
            self.client_info = ctx.client_info or {}
            self.client_capabilities = ctx.client_capabilities
        else:
            lifecycle = session.peer.connection.lifecycle
            self.client_info = lifecycle.peer_info
            self.client_capabilities = lifecycle.peer_capabilities

    @property
    def client(self) -> ClientView:
        """Who is asking: the client's self-reported info and its declared capabilities."""
        return ClientView(self.client_info, self.client_capabilities)

    @property
    def lifespan(self) -> Any:
        return self.server.lifespan_state

    # ---- logging and progress --------------------------------------------------------

    def _log_threshold(self) -> str | None:
        if self.era is Era.MODERN:
            ctx = self.request.context
            return None if ctx is None else ctx.log_level
        return self.session.log_level

    async def log(self, level: LoggingLevel, data: Any, *, logger: str | None = None) -> None:
        """Send a log message to the client, if it asked for this level.

        Modern: only when this request's `_meta` named a log level (spec: MUST NOT
        otherwise); legacy: honouring `logging/setLevel` (default: info and above).
        """
        if level not in _LEVELS:
            raise ValueError(f"unknown log level {level!r}; one of {', '.join(_LEVELS)}")
        threshold = self._log_threshold()
        if threshold is None or _RANK[level] < _RANK[threshold]:
            return
        params: dict[str, Any] = {"level": level, "data": data}
        if logger is not None:
            params["logger"] = logger
        await self.session.peer.notify("notifications/message", params)

    async def debug(self, data: Any) -> None:
        await self.log("debug", data)

    async def info(self, data: Any) -> None:
        await self.log("info", data)

    async def warning(self, data: Any) -> None:
        await self.log("warning", data)

    async def error(self, data: Any) -> None:
        await self.log("error", data)

    async def progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        """Report progress, if the client asked for it (its progress token is handled here).

        Progress must increase; a value that does not is dropped rather than sent.
        """
        connection = self.session.peer.connection
        entry = connection.requests.incoming.get(self.request_id)
        if entry is None or (entry.last_progress is not None and progress <= entry.last_progress):
            return
        frame = connection.send_progress(self.request_id, progress, total, message)
        if frame is not None:
            await self.session.peer.send(frame)

    # ---- asking the client -----------------------------------------------------------

    def _require(self, *path: str) -> None:
        if has_capability(self.client_capabilities, path):
            return
        required: dict[str, Any] = {}
        node = required
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = {}
        if self.era is Era.MODERN:
            raise MissingRequiredClientCapability.for_capabilities(required)
        raise ToolError(f"the client does not support {'.'.join(path)}, which this needs")

    async def _ask(self, key: str | None, method: str, params: dict[str, Any]) -> Any:
        if self.era is Era.LEGACY:
            return await self.session.peer.request(method, params)
        if self._asks is None:
            self._asks = Asks()
        return await self._asks.ask(self._asks.next_key(key), method, params)

    async def elicit(
        self, message: str, schema: dict[str, Any] | type, *, key: str | None = None
    ) -> ElicitResult:
        """Ask the user to fill in a form (elicitation, form mode).

        `schema` is a flat JSON Schema object of primitive properties, or a type (pydantic
        model, dataclass, TypedDict) it is derived from.

        Raises:
            MissingRequiredClientCapability: (modern) the request did not declare elicitation.
            ToolError: (legacy) the client does not support elicitation.
        """
        self._require("elicitation")
        requested = schema if isinstance(schema, dict) else _schema_of(schema)
        params = {"mode": "form", "message": message, "requestedSchema": requested}
        if self.version < "2025-11-25":
            del params["mode"]
        result: ElicitResult = await self._ask(key, "elicitation/create", params)
        return result

    async def elicit_url(
        self, message: str, url: str, *, elicitation_id: str, key: str | None = None
    ) -> ElicitResult:
        """Send the user to a URL (elicitation, URL mode: for secrets and OAuth-like flows).

        `elicitation_id` names the out-of-band flow (legacy sessions send it to the client;
        call `elicitation_complete(elicitation_id)` when the flow has finished). In modern
        MRTR the retry itself says the user came back.
        """
        self._require("elicitation", "url")
        params: dict[str, Any] = {"mode": "url", "message": message, "url": url}
        if self.era is Era.LEGACY:
            params["elicitationId"] = elicitation_id
        result: ElicitResult = await self._ask(key, "elicitation/create", params)
        return result

    async def elicitation_complete(self, elicitation_id: str) -> None:
        """Tell a legacy (2025-11-25) client that a URL-mode elicitation finished.

        Modern clients learn it from the retry, so this does nothing for them.
        """
        if self.era is Era.LEGACY and self.version >= "2025-11-25":
            await self.session.peer.notify(
                "notifications/elicitation/complete", {"elicitationId": elicitation_id}
            )

    async def sample(
        self,
        messages: str | Sequence[dict[str, Any]],
        *,
        max_tokens: int,
        system_prompt: str | None = None,
        tools: Sequence[dict[str, Any]] | None = None,
        tool_choice: dict[str, Any] | None = None,
        key: str | None = None,
        **extra: Any,
    ) -> CreateMessageResult:
        """Ask the client's LLM for a completion (sampling; with `tools` if it supports them).

        `messages` is one user text or a list of `SamplingMessage` dicts.
        """
        self._require(*(("sampling", "tools") if tools else ("sampling",)))
        if isinstance(messages, str):
            messages = [{"role": "user", "content": {"type": "text", "text": messages}}]
        params: dict[str, Any] = {"messages": list(messages), "maxTokens": max_tokens, **extra}
        if system_prompt is not None:
            params["systemPrompt"] = system_prompt
        if tools:
            params["tools"] = list(tools)
        if tool_choice is not None:
            params["toolChoice"] = tool_choice
        result: CreateMessageResult = await self._ask(key, "sampling/createMessage", params)
        return result

    async def roots(self, *, key: str | None = None) -> list[Root]:
        """The client's roots (folders it lets this server work in)."""
        self._require("roots")
        result = await self._ask(key, "roots/list", {})
        return list(result.roots)


def _schema_of(model: type) -> dict[str, Any]:
    from pydantic import TypeAdapter

    schema: dict[str, Any] = TypeAdapter(model).json_schema()
    schema.pop("title", None)
    return msgspec.json.decode(msgspec.json.encode(schema))  # type: ignore[no-any-return]
