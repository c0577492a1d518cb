"""Tests for mcpkit.protocol.framing: newline framing, chunking-independent and bounded."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpkit.protocol.errors import FrameTooLarge, RemoteProtocolError
from mcpkit.protocol.framing import DEFAULT_MAX_FRAME, FrameItem, LineFramer

Normal = bytes | tuple[str, int]


def normal(items: list[FrameItem]) -> list[Normal]:
    """Comparable form: FrameTooLarge instances become ("too large", size)."""
    return [("too large", i.size) if isinstance(i, FrameTooLarge) else i for i in items]


def model(data: bytes, max_size: int) -> list[Normal]:
    """The specification, written the slow and obvious way."""
    out: list[Normal] = []
    for raw in data.split(b"\n"):
        content = raw[:-1] if raw.endswith(b"\r") else raw
        if len(content) > max_size:
            out.append(("too large", len(raw)))
        elif content and not content.isspace():
            out.append(content)
    return out


def run(framer: LineFramer, chunks: list[bytes]) -> list[Normal]:
    items: list[FrameItem] = []
    for chunk in chunks:
        items += framer.feed(chunk)
    items += framer.end()
    return normal(items)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


# Streams rich in the bytes that matter: newlines, carriage returns, blanks, junk.
streams = st.lists(
    st.sampled_from([b"\n", b"\r", b"\r\n", b" ", b"\t", b"a", b"{}", b"\xff", b"xyz" * 3]),
    max_size=60,
).map(b"".join)


@given(streams, st.lists(st.integers(min_value=0), max_size=20), st.integers(1, 12))
@settings(max_examples=400)
def test_any_chunking_matches_the_model(data: bytes, cuts: list[int], max_size: int) -> None:
    whole = run(LineFramer(max_size), [data])
    assert whole == model(data, max_size)
    assert run(LineFramer(max_size), split(data, cuts)) == whole


@given(streams)
def test_byte_at_a_time_matches_one_feed(data: bytes) -> None:
    one = run(LineFramer(4), [data])
    assert run(LineFramer(4), [data[i : i + 1] for i in range(len(data))]) == one


@given(st.binary(), st.lists(st.integers(min_value=0), max_size=10), st.integers(1, 64))
def test_arbitrary_bytes_never_raise(data: bytes, cuts: list[int], max_size: int) -> None:
    framer = LineFramer(max_size)
    for chunk in split(data, cuts):
        for item in framer.feed(chunk):
            assert isinstance(item, bytes | FrameTooLarge)
        assert framer.buffered <= max_size + 1
    framer.end()


@given(st.integers(9, 300), st.lists(st.integers(min_value=0), max_size=10))
def test_oversize_line_is_one_error_then_framing_resumes(size: int, cuts: list[int]) -> None:
    data = b'{"ok":1}\n' + b"x" * size + b'\n{"ok":2}\n'
    framer = LineFramer(8)
    items: list[FrameItem] = []
    for chunk in split(data, cuts):
        items += framer.feed(chunk)
    assert len(items) == 3
    assert items[0] == b'{"ok":1}'
    assert isinstance(items[1], FrameTooLarge)
    assert isinstance(items[1], RemoteProtocolError)
    assert items[1].size == size
    assert items[1].limit == 8
    assert items[2] == b'{"ok":2}'


def test_huge_line_is_not_buffered() -> None:
    framer = LineFramer(1024)
    chunk = b"y" * 65536
    for _ in range(256):  # 16 MiB without a newline
        assert framer.feed(chunk) == []
        assert framer.buffered == 0
    items = framer.feed(b"tail\n{}\n")
    assert normal(items) == [("too large", 256 * 65536 + 4), b"{}"]


def test_crlf_and_blank_lines() -> None:
    framer = LineFramer()
    assert framer.feed(b'{"a":1}\r\n\r\n  \t \n{"b":2}\n') == [b'{"a":1}', b'{"b":2}']


@pytest.mark.parametrize(
    ("chunk", "lines"),
    [
        (b'{"a":1}\n', [b'{"a":1}']),
        (b'{"a":1}\r\n', [b'{"a":1}']),
        (b'{"a":1}\r\r\n', [b'{"a":1}\r']),  # one \r is the terminator's, not two
        (b"\n", []),
        (b"\r\n", []),
        (b" \t\r\n", []),
        (b"junk\n", [b"junk"]),
    ],
)
def test_a_chunk_of_one_line(chunk: bytes, lines: list[bytes]) -> None:
    """The usual chunk (one whole line) has a path of its own; it frames as any other."""
    assert LineFramer().feed(chunk) == lines == model(chunk, DEFAULT_MAX_FRAME)


def test_carriage_return_does_not_count_against_the_limit() -> None:
    framer = LineFramer(4)
    assert framer.feed(b"abcd\r\n") == [b"abcd"]
    assert normal(framer.feed(b"abcde\r\n")) == [("too large", 6)]


def test_end_yields_unterminated_last_line_and_resets() -> None:
    framer = LineFramer(4)
    assert framer.feed(b"ab") == []
    assert framer.end() == [b"ab"]
    assert framer.end() == []
    assert framer.feed(b"abcde") == []
    assert normal(framer.end()) == [("too large", 5)]
    assert framer.feed(b"ok\n") == [b"ok"]


def test_non_json_lines_pass_through() -> None:
    assert LineFramer().feed(b"hello world\n\xff\xfe\n") == [b"hello world", b"\xff\xfe"]


def test_defaults_and_validation() -> None:
    assert LineFramer().max_size == DEFAULT_MAX_FRAME == 16 * 1024 * 1024
    with pytest.raises(ValueError, match="max_size"):
        LineFramer(0)
