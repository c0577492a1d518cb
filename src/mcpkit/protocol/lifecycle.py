"""The legacy connection lifecycle as a state machine written down as data.

Layer: protocol (sans-I/O). Pure.

How this works (h11's `_state.py` style): a legacy connection moves

    IDLE --initialize sent/received--> INITIALIZING --result--> INITIALIZED
         --notifications/initialized--> OPERATING --close--> CLOSED

and an error answer to `initialize` sends it back to IDLE. `TRANSITIONS` is the whole
machine; `Lifecycle.advance()` is the only way to move. What may be sent in each state is
a second table, `_SEND_ALLOWED`: before the handshake completes only `initialize`, `ping`,
logging and cancellation may flow (spec: lifecycle, "Initialization"). The modern era has
no connection state, so it never touches this machine.
"""

from __future__ import annotations

import enum
from typing import Any, Final

import msgspec

from mcpkit.protocol.errors import LocalProtocolError

__all__ = ["Lifecycle", "LifecycleEvent", "State"]


class State(enum.Enum):
    IDLE = "idle"
    INITIALIZING = "initializing"
    INITIALIZED = "initialized"
    OPERATING = "operating"
    CLOSED = "closed"


class LifecycleEvent(enum.Enum):
    INITIALIZE = "initialize"
    INITIALIZE_RESULT = "initialize result"
    INITIALIZE_ERROR = "initialize error"
    INITIALIZED = "notifications/initialized"
    CLOSE = "close"


_S = State
_E = LifecycleEvent

TRANSITIONS: Final[dict[tuple[State, LifecycleEvent], State]] = {
    (_S.IDLE, _E.INITIALIZE): _S.INITIALIZING,
    (_S.INITIALIZING, _E.INITIALIZE_RESULT): _S.INITIALIZED,
    (_S.INITIALIZING, _E.INITIALIZE_ERROR): _S.IDLE,
    (_S.INITIALIZED, _E.INITIALIZED): _S.OPERATING,
    **{(state, _E.CLOSE): _S.CLOSED for state in State},
}

# (a module tuple: on Python 3.11 each `State.X` read goes through the enum metaclass's
# `__getattr__` slot, ~100 ns, and `ready` is asked on every request)
_READY: Final = (_S.INITIALIZED, _S.OPERATING)

_ALWAYS: Final = frozenset({"ping", "notifications/cancelled", "notifications/progress"})
_PRE_OPERATING_SERVER: Final = _ALWAYS | {"notifications/message"}

# Methods each side may *send* in each state, beyond the handshake messages themselves.
# None means "anything the method table allows".
_SEND_ALLOWED: Final[dict[tuple[bool, State], frozenset[str] | None]] = {
    (True, _S.IDLE): frozenset({"initialize"}) | _ALWAYS,
    (True, _S.INITIALIZING): _ALWAYS,
    (True, _S.INITIALIZED): None,
    (True, _S.OPERATING): None,
    (False, _S.IDLE): _ALWAYS,
    (False, _S.INITIALIZING): _PRE_OPERATING_SERVER,
    (False, _S.INITIALIZED): _PRE_OPERATING_SERVER,
    (False, _S.OPERATING): None,
}


class Lifecycle(msgspec.Struct):
    """One legacy connection's handshake state and what it negotiated (a msgspec struct:
    every modern request makes a connection, so this is built on every one of them).

    `is_client` says which side we are. After the handshake, `version`, `peer_capabilities`,
    `peer_info` and `instructions` hold what was negotiated.
    """

    is_client: bool
    state: State = State.IDLE
    version: str | None = None
    peer_capabilities: dict[str, Any] = msgspec.field(default_factory=dict)
    peer_info: dict[str, Any] = msgspec.field(default_factory=dict)
    instructions: str | None = None

    def advance(self, event: LifecycleEvent) -> State:
        """Apply an event; raises LocalProtocolError when it is not allowed now."""
        new = TRANSITIONS.get((self.state, event))
        if new is None:
            raise LocalProtocolError(f"{event.value!r} is not allowed in state {self.state.value}")
        self.state = new
        return new

    def can_send(self, method: str) -> bool:
        """Whether our side may send `method` in the current state."""
        if self.state is State.CLOSED:
            return False
        allowed = _SEND_ALLOWED[(self.is_client, self.state)]
        return allowed is None or method in allowed

    @property
    def ready(self) -> bool:
        """Whether the handshake has completed (capabilities are known)."""
        return self.state in _READY
