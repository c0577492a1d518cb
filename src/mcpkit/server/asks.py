"""Asking the client for input mid-request — one API, two eras.

Layer: server. A handler calls `await ctx.elicit(...)`, `ctx.sample(...)` or `ctx.roots()`;
this module decides how the question travels.

How this works:
- Legacy session: the ask is a real server→client JSON-RPC request, awaited.
- Modern (MRTR, spec: basic/patterns/mrtr): the server never sends requests. Each ask has a
  key (given, or `ask-<n>` by call order, so a re-run asks the same keys in the same order).
  If the retry's `inputResponses` — or the answers carried in the sealed `requestState` from
  earlier rounds — hold that key, the ask returns the answer at once. Otherwise it is
  recorded and the handler is stopped with `InputRequired`; asks started concurrently (e.g.
  `asyncio.gather`) get a moment to record themselves first, so one round can carry several.
  The framework answers with an `InputRequiredResult` listing every recorded ask and a
  `requestState` sealing the answers so far plus `ctx.state`. The retry re-runs the handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import anyio
import anyio.lowlevel
import msgspec

from mcpkit.protocol.errors import InvalidParams
from mcpkit.protocol.types import CreateMessageResult, ElicitResult, ListRootsResult

__all__ = ["ASK_RESULTS", "Asks", "InputRequired", "is_input_required"]

# method of an input request → the type its answer must have
ASK_RESULTS: Final[dict[str, Any]] = {
    "elicitation/create": ElicitResult,
    "sampling/createMessage": CreateMessageResult,
    "roots/list": ListRootsResult,
}


class InputRequired(BaseException):  # a signal, not an error
    """Raised inside a modern handler to stop it until the client answers its asks.

    Not an error anyone sees: the framework turns it into an `InputRequiredResult`. It is a
    `BaseException`, like cancellation, so that a tool's own `except Exception:` cannot
    swallow it.
    """


def is_input_required(exc: BaseException) -> bool:
    """Whether `exc` is `InputRequired`, or a group of them (asks made in a task group)."""
    if isinstance(exc, InputRequired):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return all(is_input_required(e) for e in exc.exceptions)
    return False


@dataclass
class Asks:
    """The asks of one modern request round: what is answered, and what is still pending."""

    answers: dict[str, Any] = field(default_factory=dict)
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    _counter: int = 0

    def next_key(self, key: str | None) -> str:
        """The key of the next ask: the given one, or the n-th automatic one."""
        self._counter += 1
        return key if key is not None else f"ask-{self._counter}"

    def answer_for(self, key: str, method: str) -> Any:
        """The typed answer for `key`, or None if the client has not answered it yet.

        Raises:
            InvalidParams: the client's answer does not have the shape `method` requires.
        """
        if key not in self.answers:
            return None
        try:
            return msgspec.convert(self.answers[key], ASK_RESULTS[method])
        except msgspec.ValidationError as exc:
            raise InvalidParams(
                f"inputResponses[{key!r}] is not a valid answer to {method}: {exc}"
            ) from None

    async def ask(self, key: str, method: str, params: dict[str, Any]) -> Any:
        """Return the answer for `key`, or record the ask and stop the handler."""
        found = self.answer_for(key, method)
        if found is not None:
            return found
        self.pending[key] = {"method": method, "params": params}
        # Let asks started concurrently with this one record themselves before we stop.
        for _ in range(3):
            await anyio.lowlevel.checkpoint()
        raise InputRequired(f"waiting for the client to answer {key!r}")
