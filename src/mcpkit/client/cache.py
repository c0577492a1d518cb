"""A cache of modern cacheable results, honouring `ttlMs` and `cacheScope`.

Layer: client. Spec (server/utilities/caching): a result is fresh while now < received +
ttlMs; 0 or absent means stale; the key is the method plus the params that shape the result;
MRTR rounds and `input_required` results are never cached; a relevant list_changed or
resources/updated notification invalidates. One client is one authorization context, so
"private" results may be cached here too (never shared across clients).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import msgspec

__all__ = ["ResultCache"]

_KIND_METHODS = {
    "tools": ("tools/list",),
    "prompts": ("prompts/list",),
    "resources": ("resources/list", "resources/templates/list"),
}


class ResultCache:
    """Fresh results by (method, params). `clock` is injectable for tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[tuple[str, bytes], tuple[float, Any]] = {}

    @staticmethod
    def _key(method: str, params: Any) -> tuple[str, bytes]:
        wire = msgspec.to_builtins(params) if params is not None else {}
        if isinstance(wire, dict):
            wire = {k: v for k, v in wire.items() if k != "_meta"}
        return method, msgspec.json.encode(wire, order="sorted")

    def get(self, method: str, params: Any) -> Any:
        """The cached result, or None when absent or stale."""
        key = self._key(method, params)
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, result = entry
        if self._clock() >= expires:
            del self._entries[key]
            return None
        return result

    def put(self, method: str, params: Any, result: Any) -> None:
        """Remember a result for its `ttlMs` (not at all for 0, absent or negative)."""
        ttl = getattr(result, "ttl_ms", msgspec.UNSET)
        if not isinstance(ttl, int) or ttl <= 0:
            return
        self._entries[self._key(method, params)] = (self._clock() + ttl / 1000, result)

    def invalidate(self, kind: str, uri: str | None = None) -> None:
        """Forget what a change notification made stale."""
        if kind == "resource":
            drop = [
                k
                for k in self._entries
                if k[0] == "resources/read" and uri and uri.encode() in k[1]
            ]
        else:
            methods = _KIND_METHODS.get(kind, ())
            drop = [k for k in self._entries if k[0] in methods]
        for key in drop:
            del self._entries[key]
