"""The method table: every MCP method, its payload types, direction, eras and capability.

Layer: protocol (sans-I/O). Pure data. Dispatch is one dict lookup in `METHODS`, never
reflection per message. Which versions define a method comes from the generated
`types.versions.METHOD_VERSIONS`, so the table cannot drift from the official schemas.
"""

from __future__ import annotations

import enum
from typing import Any, Final

import msgspec

from mcpkit.protocol import types as t
from mcpkit.protocol.types.versions import METHOD_VERSIONS

__all__ = ["METHODS", "Direction", "MethodSpec"]


class Direction(enum.Enum):
    """Who may send a method."""

    CLIENT_TO_SERVER = "c2s"
    SERVER_TO_CLIENT = "s2c"
    BOTH = "both"


_C2S = Direction.CLIENT_TO_SERVER
_S2C = Direction.SERVER_TO_CLIENT
_BOTH = Direction.BOTH


class MethodSpec(msgspec.Struct, frozen=True):
    """What the protocol says about one method.

    `capability` is the path of the capability the *receiver* must have declared before
    anyone may send this (e.g. `("tools",)` on the server for `tools/list`,
    `("sampling",)` on the client for `sampling/createMessage`); empty when none is needed.
    `input_required` marks the three methods whose modern result may be an
    `InputRequiredResult`; `cacheable` those whose modern result carries `ttlMs`/`cacheScope`.
    """

    method: str
    direction: Direction
    params: Any
    result: Any = None
    capability: tuple[str, ...] = ()
    input_required: bool = False
    cacheable: bool = False
    versions: frozenset[str] = frozenset()

    @property
    def is_notification(self) -> bool:
        return self.result is None

    def sendable_by(self, is_client: bool) -> bool:
        """Whether the given side may send this method."""
        if self.direction is _BOTH:
            return True
        return (self.direction is _C2S) == is_client


def _spec(
    method: str, direction: Direction, params: Any, result: Any = None, **kw: Any
) -> MethodSpec:
    return MethodSpec(
        method, direction, params, result, versions=METHOD_VERSIONS.get(method, frozenset()), **kw
    )


_TABLE: Final = (
    # lifecycle and discovery
    _spec("initialize", _C2S, t.InitializeRequestParams, t.InitializeResult),
    _spec("ping", _BOTH, t.RequestParams, t.Result),
    _spec("server/discover", _C2S, t.RequestParams, t.DiscoverResult, cacheable=True),
    # server features
    _spec(
        "tools/list",
        _C2S,
        t.PaginatedRequestParams,
        t.ListToolsResult,
        capability=("tools",),
        cacheable=True,
    ),
    _spec(
        "tools/call",
        _C2S,
        t.CallToolRequestParams,
        t.CallToolResult,
        capability=("tools",),
        input_required=True,
    ),
    _spec(
        "resources/list",
        _C2S,
        t.PaginatedRequestParams,
        t.ListResourcesResult,
        capability=("resources",),
        cacheable=True,
    ),
    _spec(
        "resources/templates/list",
        _C2S,
        t.PaginatedRequestParams,
        t.ListResourceTemplatesResult,
        capability=("resources",),
        cacheable=True,
    ),
    _spec(
        "resources/read",
        _C2S,
        t.ReadResourceRequestParams,
        t.ReadResourceResult,
        capability=("resources",),
        input_required=True,
        cacheable=True,
    ),
    _spec(
        "resources/subscribe",
        _C2S,
        t.SubscribeRequestParams,
        t.Result,
        capability=("resources", "subscribe"),
    ),
    _spec(
        "resources/unsubscribe",
        _C2S,
        t.UnsubscribeRequestParams,
        t.Result,
        capability=("resources", "subscribe"),
    ),
    _spec(
        "prompts/list",
        _C2S,
        t.PaginatedRequestParams,
        t.ListPromptsResult,
        capability=("prompts",),
        cacheable=True,
    ),
    _spec(
        "prompts/get",
        _C2S,
        t.GetPromptRequestParams,
        t.GetPromptResult,
        capability=("prompts",),
        input_required=True,
    ),
    _spec(
        "completion/complete",
        _C2S,
        t.CompleteRequestParams,
        t.CompleteResult,
        capability=("completions",),
    ),
    _spec("logging/setLevel", _C2S, t.SetLevelRequestParams, t.Result, capability=("logging",)),
    _spec(
        "subscriptions/listen",
        _C2S,
        t.SubscriptionsListenRequestParams,
        t.SubscriptionsListenResult,
    ),
    # legacy (2025-11-25) tasks, both directions
    _spec("tasks/get", _BOTH, t.GetTaskRequestParams, t.GetTaskResult, capability=("tasks",)),
    _spec(
        "tasks/result",
        _BOTH,
        t.GetTaskPayloadRequestParams,
        t.GetTaskPayloadResult,
        capability=("tasks",),
    ),
    _spec(
        "tasks/list",
        _BOTH,
        t.PaginatedRequestParams,
        t.ListTasksResult,
        capability=("tasks", "list"),
    ),
    _spec(
        "tasks/cancel",
        _BOTH,
        t.CancelTaskRequestParams,
        t.CancelTaskResult,
        capability=("tasks", "cancel"),
    ),
    # client features (legacy: real requests; modern: MRTR input requests only)
    _spec(
        "sampling/createMessage",
        _S2C,
        t.CreateMessageRequestParams,
        t.CreateMessageResult,
        capability=("sampling",),
    ),
    _spec(
        "elicitation/create",
        _S2C,
        t.ElicitRequestParams,
        t.ElicitResult,
        capability=("elicitation",),
    ),
    _spec("roots/list", _S2C, t.RequestParams, t.ListRootsResult, capability=("roots",)),
    # notifications
    _spec("notifications/initialized", _C2S, t.NotificationParams),
    _spec("notifications/cancelled", _BOTH, t.CancelledNotificationParams),
    _spec("notifications/progress", _BOTH, t.ProgressNotificationParams),
    _spec("notifications/message", _S2C, t.LoggingMessageNotificationParams),
    _spec("notifications/resources/updated", _S2C, t.ResourceUpdatedNotificationParams),
    _spec("notifications/resources/list_changed", _S2C, t.NotificationParams),
    _spec("notifications/tools/list_changed", _S2C, t.NotificationParams),
    _spec("notifications/prompts/list_changed", _S2C, t.NotificationParams),
    _spec("notifications/roots/list_changed", _C2S, t.NotificationParams),
    _spec("notifications/elicitation/complete", _S2C, t.ElicitationCompleteNotificationParams),
    _spec(
        "notifications/subscriptions/acknowledged",
        _S2C,
        t.SubscriptionsAcknowledgedNotificationParams,
    ),
    _spec("notifications/tasks/status", _BOTH, t.TaskStatusNotificationParams),
)

METHODS: Final[dict[str, MethodSpec]] = {spec.method: spec for spec in _TABLE}
