"""Protocol versions, the two eras, and version negotiation.

Layer: protocol (sans-I/O). Pure data and pure functions.

Legacy versions negotiate once, in `initialize`; the modern version is named on every
request in `_meta`. A dual-era peer speaks both: which era a request belongs to is decided
per request (see `mcpkit.protocol.connection`).
"""

from __future__ import annotations

import enum

__all__ = [
    "LATEST_LEGACY",
    "LATEST_MODERN",
    "LEGACY_VERSIONS",
    "MODERN_VERSIONS",
    "SUPPORTED_VERSIONS",
    "Era",
    "era_of",
    "negotiate_legacy",
    "pick_modern",
]


class Era(enum.Enum):
    """Which generation of the protocol a request or connection speaks.

    (Code on every request's path compares with module aliases, `_LEGACY = Era.LEGACY`: on
    Python 3.11 reading a member off its class goes through the enum metaclass's
    `__getattr__` slot, ~0.15 µs a read, which 3.12 removed.)"""

    LEGACY = "legacy"
    MODERN = "modern"


LEGACY_VERSIONS: tuple[str, ...] = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
MODERN_VERSIONS: tuple[str, ...] = ("2026-07-28",)
SUPPORTED_VERSIONS: tuple[str, ...] = LEGACY_VERSIONS + MODERN_VERSIONS
LATEST_LEGACY = LEGACY_VERSIONS[-1]
LATEST_MODERN = MODERN_VERSIONS[-1]

# Versions are ISO dates, so string order is time order.
BATCH_VERSIONS = frozenset({"2025-03-26"})


def era_of(version: str) -> Era:
    """The era a known version belongs to (modern for anything from 2026-07-28 on)."""
    return Era.MODERN if version >= MODERN_VERSIONS[0] else Era.LEGACY


def negotiate_legacy(requested: str, supported: tuple[str, ...] = LEGACY_VERSIONS) -> str:
    """The version a legacy server answers `initialize` with.

    The spec (lifecycle, version negotiation): if the server supports the requested version
    it MUST answer with it; otherwise it answers with another version it supports, which
    SHOULD be its latest.
    """
    if requested in supported:
        return requested
    return supported[-1]


def pick_modern(
    offered: list[str] | tuple[str, ...], ours: tuple[str, ...] = MODERN_VERSIONS
) -> str | None:
    """The newest modern version both sides support, or None if there is none."""
    common = [v for v in offered if v in ours]
    return max(common) if common else None
