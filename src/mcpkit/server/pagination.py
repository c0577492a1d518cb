"""Opaque cursors for the paginated lists: `tools/list`, `resources/list`, `prompts/list`, ...

Layer: server. Pure: no I/O, no clock, no randomness, no state between requests; a cursor
carries everything needed to serve the next page. Handlers call `paginate` with the whole
list, the request's cursor and the server's page size.

How a cursor works
------------------
A cursor is base64url, unpadded, of the compact JSON `{"v":1,"o":OFFSET,"f":LIST,"k":CHECK}`:
`v` the format version, `o` the offset of the next page's first item, `f` a 16-hex-digit
fingerprint of the list it was issued for, `k` a short hash of the other three. The spec makes
cursors opaque, so clients must not build them; the encoding only keeps them from looking like
something to edit. `k` and the rule that a cursor must be exactly the canonical encoding of
its payload catch corruption and casual tampering; they are not a signature. A forged cursor
can at most name another offset of the same list, which the client may read anyway.

The fingerprint is `fingerprint_of(key(item) for item in items)` when `key=` is given (e.g.
the tool names), a hash of the caller's own `fingerprint=` string when that is given, and a
hash of the list's length otherwise (which misses a change that keeps the length).

A cursor is answered with `InvalidParams` (-32602, as the spec advises for invalid cursors),
`data={"cursor": <the cursor, cut to 100 characters>}`:

* "invalid cursor" for anything not issued by `paginate`: not base64url, not canonical, not
  the JSON above, an unknown version, a bad check, an offset below 1 or past the list's end;
* "stale cursor: ..." when the fingerprint differs, i.e. the list changed since the cursor was
  issued (`data` also has `"reason": "stale"`). Restarting at 0 would hand a client that
  concatenates pages duplicates, and going on at the old offset could skip or repeat items
  silently; an error makes the client list again from the start, which gives it a consistent
  list (the server also sends `notifications/.../list_changed` when its lists change).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final, TypeVar

from mcpkit.protocol.errors import InvalidParams

__all__ = ["CURSOR_VERSION", "fingerprint_of", "paginate"]

T = TypeVar("T")

CURSOR_VERSION: Final = 1
_MAX_CURSOR_CHARS: Final = 256  # our cursors are under 100; anything longer is not ours
_SHOWN_CURSOR_CHARS: Final = 100
_FIELDS: Final = frozenset({"v", "o", "f", "k"})


def fingerprint_of(keys: Iterable[str]) -> str:
    """A short (16 hex digits) fingerprint of a list, from its items' keys in order.

    Keys are length-prefixed, so `["ab", "c"]` and `["a", "bc"]` differ.
    """
    digest = hashlib.blake2b(digest_size=8)
    for key in keys:
        data = key.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def paginate(
    items: Sequence[T],
    cursor: str | None,
    page_size: int | None,
    *,
    key: Callable[[T], str] | None = None,
    fingerprint: str | None = None,
) -> tuple[list[T], str | None]:
    """One page of `items` and the cursor of the next page (None on the last page).

    Args:
        items: the whole list, in a stable order.
        cursor: the request's `cursor`, or None for the first page.
        page_size: items per page; None puts everything (from the cursor on) in one page.
        key: the identity of an item (e.g. a tool's name), for the list's fingerprint.
        fingerprint: the list's fingerprint, precomputed by the caller (instead of `key`).

    Raises:
        InvalidParams: the cursor is invalid or stale (see the module docstring); the only
            exception any `cursor` string can cause.
        ValueError: `page_size` is below 1, or both `key` and `fingerprint` are given.
    """
    if page_size is not None and page_size < 1:
        raise ValueError(f"page_size must be at least 1 (or None), not {page_size}")
    if key is not None and fingerprint is not None:
        raise ValueError("give key= or fingerprint=, not both")
    if fingerprint is not None:
        listed = fingerprint_of([fingerprint])
    elif key is not None:
        listed = fingerprint_of(key(item) for item in items)
    else:
        listed = fingerprint_of([f"length {len(items)}"])
    start = 0 if cursor is None else _open(cursor, listed, len(items))
    end = len(items) if page_size is None else start + page_size
    return list(items[start:end]), (_issue(end, listed) if end < len(items) else None)


def _issue(offset: int, listed: str) -> str:
    payload = {"v": CURSOR_VERSION, "o": offset, "f": listed, "k": _check(offset, listed)}
    return _b64(json.dumps(payload, separators=(",", ":")).encode("ascii"))


def _check(offset: int, listed: str) -> str:
    text = f"{CURSOR_VERSION}:{offset}:{listed}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=4).hexdigest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _open(cursor: str, listed: str, count: int) -> int:
    """The offset a cursor names, checked against the list it is used on now."""
    offset, issued_for = _read(cursor)
    if issued_for != listed:
        raise InvalidParams(
            "stale cursor: the list changed since this cursor was issued; list it again "
            "without a cursor",
            {"cursor": _shown(cursor), "reason": "stale"},
        )
    if offset >= count:
        raise _invalid(cursor)
    return offset


def _read(cursor: str) -> tuple[int, str]:
    payload = _payload(cursor)
    offset, listed = payload.get("o"), payload.get("f")
    if (
        payload.keys() != _FIELDS
        or type(payload["v"]) is not int
        or payload["v"] != CURSOR_VERSION
        or type(offset) is not int
        or offset < 1
        or not isinstance(listed, str)
        or payload["k"] != _check(offset, listed)
    ):
        raise _invalid(cursor)
    return offset, listed


def _payload(cursor: str) -> dict[str, Any]:
    if len(cursor) > _MAX_CURSOR_CHARS:
        raise _invalid(cursor)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except ValueError:  # binascii.Error, non-ASCII text, bad UTF-8 or JSON: all ValueErrors
        raise _invalid(cursor) from None
    if _b64(raw) != cursor or not isinstance(payload, dict):
        raise _invalid(cursor)  # not canonical: stray characters, padding, unused bits set
    return payload


def _invalid(cursor: str) -> InvalidParams:
    return InvalidParams("invalid cursor", {"cursor": _shown(cursor)})


def _shown(cursor: str) -> str:
    """The cursor for error data: cut short, and safe to encode (lone surrogates replaced)."""
    cut = cursor if len(cursor) <= _SHOWN_CURSOR_CHARS else cursor[:_SHOWN_CURSOR_CHARS] + "…"
    return cut.encode("utf-8", "replace").decode("utf-8")
