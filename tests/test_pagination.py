"""Tests for mcpkit.server.pagination: opaque cursors over the server's lists.

Layer: tests (pure; no I/O). Pages must add up to the list for every page size; cursors must
be opaque, detect a changed list, and turn any string a client sends into either a page or
`InvalidParams` (-32602), never another exception.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpkit.protocol.errors import INVALID_PARAMS, InvalidParams, error_for
from mcpkit.server import pagination
from mcpkit.server.pagination import fingerprint_of, paginate

ITEMS = [f"tool-{n}" for n in range(10)]


def _pages(items: list[str], page_size: int | None) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page, cursor = paginate(items, cursor, page_size, key=str)
        pages.append(page)
        if cursor is None:
            return pages


def _encode(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()


def _decode(cursor: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    )
    return decoded


def _invalid(items: list[str], cursor: str, **kw: Any) -> InvalidParams:
    with pytest.raises(InvalidParams) as info:
        paginate(items, cursor, 3, **kw)
    return info.value


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(), max_size=40), st.one_of(st.none(), st.integers(1, 50)))
def test_pages_add_up_to_the_list(items: list[str], page_size: int | None) -> None:
    pages = _pages(items, page_size)
    assert [item for page in pages for item in page] == items
    expected = 1 if page_size is None else max(1, -(-len(items) // page_size))
    assert len(pages) == expected
    assert all(len(page) == page_size for page in pages[:-1])


def test_no_page_size_is_one_page() -> None:
    assert paginate(ITEMS, None, None) == (ITEMS, None)
    assert paginate([], None, 5) == ([], None)


def test_cursor_is_opaque() -> None:
    _, cursor = paginate(ITEMS, None, 4, key=str)
    assert cursor is not None
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)  # URL-safe, unpadded
    assert not cursor.isdigit()
    assert _decode(cursor)["o"] == 4


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "4",
        "abc",
        "!!!!",
        "not a cursor",
        "é",
        "\ud800",
        "x" * 10_000,
        _encode([1, 4]),
        _encode("cursor"),
        _encode(None),
        _encode({}),
        base64.urlsafe_b64encode(b"\xff\xfe garbage").decode(),
    ],
)
def test_garbage_is_an_invalid_cursor(cursor: str) -> None:
    error = _invalid(ITEMS, cursor)
    assert error.code == INVALID_PARAMS
    assert error.message == "invalid cursor"
    assert error_for(error) == (INVALID_PARAMS, "invalid cursor", error.data)
    assert len(error.data["cursor"]) <= 101  # long cursors are cut in the error data


def _forged(**changes: Any) -> str:
    """A cursor for ITEMS (page size 3) with fields changed and the check recomputed."""
    _, cursor = paginate(ITEMS, None, 3, key=str)
    assert cursor is not None
    payload = {**_decode(cursor), **changes}
    if "k" not in changes and isinstance(payload["o"], int) and isinstance(payload["f"], str):
        payload["k"] = pagination._check(payload["o"], payload["f"])
    return (
        base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode())
        .rstrip(b"=")
        .decode()
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"v": 2},
        {"v": True},
        {"v": "1"},
        {"o": 0},
        {"o": -3},
        {"o": 10},  # the end of the list: never issued
        {"o": 11},
        {"o": 10**40},
        {"o": 3.0},
        {"o": True},
        {"o": "3"},
        {"f": 12},
        {"k": "00000000"},
        {"extra": 1},
    ],
)
def test_tampered_cursors_are_invalid(changes: dict[str, Any]) -> None:
    assert _invalid(ITEMS, _forged(**changes), key=str).message == "invalid cursor"


def test_forged_cursor_with_a_valid_offset_only_names_another_page() -> None:
    # Not a signature: the client may name any offset of a list it can read anyway.
    assert paginate(ITEMS, _forged(o=7), 3, key=str) == (ITEMS[7:], None)


def test_non_canonical_encodings_are_invalid() -> None:
    _, cursor = paginate(ITEMS, None, 3, key=str)
    assert cursor is not None
    for variant in (cursor + "=", cursor + "==", " " + cursor, cursor + "\n", cursor + "!"):
        assert _invalid(ITEMS, variant, key=str).message == "invalid cursor"


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_single_character_change_is_detected(data: st.DataObject) -> None:
    _, cursor = paginate(ITEMS, None, 3, key=str)
    assert cursor is not None
    index = data.draw(st.integers(0, len(cursor) - 1))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    replacement = data.draw(st.sampled_from(alphabet).filter(lambda c: c != cursor[index]))
    tampered = cursor[:index] + replacement + cursor[index + 1 :]
    with pytest.raises(InvalidParams):
        paginate(ITEMS, tampered, 3, key=str)


@pytest.mark.parametrize(
    ("changed", "kw"),
    [
        ([*ITEMS, "tool-new"], {"key": str}),  # an item added
        (ITEMS[1:], {"key": str}),  # an item removed
        ([*ITEMS[:-1], "renamed"], {"key": str}),  # same length, other names
        (ITEMS[:-1], {}),  # no key: the length is the fingerprint
    ],
)
def test_a_changed_list_makes_the_cursor_stale(changed: list[str], kw: dict[str, Any]) -> None:
    _, cursor = paginate(ITEMS, None, 3, **kw)
    assert cursor is not None
    error = _invalid(changed, cursor, **kw)
    assert error.code == INVALID_PARAMS
    assert error.message.startswith("stale cursor")
    assert error.data == {"cursor": cursor, "reason": "stale"}


def test_precomputed_fingerprint() -> None:
    page, cursor = paginate(ITEMS, None, 8, fingerprint="generation-1")
    assert page == ITEMS[:8] and cursor is not None
    assert paginate(ITEMS, cursor, 8, fingerprint="generation-1") == (ITEMS[8:], None)
    assert _invalid(ITEMS, cursor, fingerprint="generation-2").data["reason"] == "stale"
    # Same fingerprint, shorter list: the offset is past the end, so the cursor is invalid.
    assert _invalid(ITEMS[:5], cursor, fingerprint="generation-1").message == "invalid cursor"


def test_fingerprints_depend_on_keys_and_their_boundaries() -> None:
    assert fingerprint_of(["ab", "c"]) != fingerprint_of(["a", "bc"])
    assert fingerprint_of(["a"]) == fingerprint_of(iter(["a"]))
    assert re.fullmatch("[0-9a-f]{16}", fingerprint_of([]))


def test_programming_errors_are_value_errors() -> None:
    with pytest.raises(ValueError, match="page_size"):
        paginate(ITEMS, None, 0)
    with pytest.raises(ValueError, match="not both"):
        paginate(ITEMS, None, 3, key=str, fingerprint="x")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=5)
    ),
    max_leaves=12,
)
PAYLOADS = (
    st.fixed_dictionaries({}, optional={"v": JSON, "o": JSON, "f": JSON, "k": JSON, "x": JSON})
    | JSON
)


@settings(max_examples=500, deadline=None)
@given(
    st.text()
    | st.binary().map(lambda raw: base64.urlsafe_b64encode(raw).decode().rstrip("="))
    | PAYLOADS.map(lambda payload: _encode(payload))
)
def test_any_string_gives_a_page_or_invalid_params(cursor: str) -> None:
    try:
        page, _ = paginate(ITEMS, cursor, 3, key=str)
    except InvalidParams as error:
        failure = error
    else:
        assert len(page) <= 3  # a valid cursor by chance: still just a page
        return
    assert failure.code == INVALID_PARAMS
    assert set(failure.data) <= {"cursor", "reason"}
    json.dumps(failure.data, ensure_ascii=False).encode()  # the error data always encodes
