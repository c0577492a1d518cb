"""Host and Origin checks for the MCP HTTP endpoint (DNS rebinding, cross-site requests).

Layer: server (the HTTP binding of the server). Pure functions over header values.

Why: a browser page on any site can make requests to a server on 127.0.0.1; the spec says
servers MUST validate `Origin` and answer a present, invalid one with 403
(basic/transports/streamable-http, "Security Warning"), and a DNS-rebinding attacker's
requests carry a `Host` naming the attacker's domain. So by default, on a loopback bind only
loopback Hosts are served, and an Origin must be a loopback origin or the server's own.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection
from typing import Final
from urllib.parse import urlsplit

__all__ = ["LOOPBACK_NAMES", "host_allowed", "is_loopback", "origin_allowed", "split_host"]

LOOPBACK_NAMES: Final = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


def is_loopback(address: str) -> bool:
    """Whether a bind address (or host name) is loopback-only."""
    if address.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def split_host(value: str) -> tuple[str, str | None]:
    """`host[:port]` (IPv6 in brackets) → (host lower-cased, port or None)."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        host, rest = value[: end + 1], value[end + 1 :]
        return host, rest[1:] if rest.startswith(":") else None
    host, sep, port = value.rpartition(":")
    return (host, port) if sep else (value, None)


def host_allowed(host: str, allowed: Collection[str] | None, *, loopback_bind: bool) -> bool:
    """Whether to serve a request with this `Host` header.

    `allowed` entries are `name` (any port) or `name:port`; `"*"` allows everything. With no
    list, a loopback bind serves only loopback names and any other bind serves every Host.
    """
    name, port = split_host(host)
    if allowed is None:
        return name in LOOPBACK_NAMES if loopback_bind else True
    if "*" in allowed:
        return True
    wanted = {entry.lower() for entry in allowed}
    return name in wanted or (port is not None and f"{name}:{port}" in wanted)


def origin_allowed(origin: str, host: str, allowed: Collection[str] | None) -> bool:
    """Whether a request with this `Origin` may be served (check only present Origins).

    `allowed` entries are full origins (`https://app.example`) or `"*"`. With no list, a
    loopback origin (any port) or the server's own origin (its netloc is the `Host`) passes.
    """
    if allowed is not None:
        return "*" in allowed or origin.rstrip("/") in {o.rstrip("/") for o in allowed}
    parts = urlsplit(origin)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return False
    name, _ = split_host(parts.netloc)
    return name in LOOPBACK_NAMES or parts.netloc.lower() == host.strip().lower()
