"""Return values to tool results: `mcpkit.server.content`.

Layer: tests (server). Each kind of return value becomes the blocks the module docstring
promises; the helpers guess mime types from suffixes and magic bytes (from memory and from a
real file); and every assembled `CallToolResult` is checked against the spec's schema, its
structured content against the tool's own output schema.
"""

from __future__ import annotations

import base64
import datetime
import enum
import inspect
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
from jsonschema import Draft7Validator, Draft202012Validator
from pydantic import BaseModel

from mcpkit.protocol.types import (
    AudioContent,
    CallToolResult,
    EmbeddedResource,
    ImageContent,
    ResourceLink,
    TextContent,
)
from mcpkit.server.content import (
    BYTES_URI,
    Audio,
    EmbeddedBlob,
    EmbeddedText,
    Image,
    Link,
    error_result,
    guess_mime_type,
    is_content,
    json_text,
    to_call_tool_result,
    to_content,
)
from mcpkit.server.schema import FunctionSignature

SPEC = Path(__file__).parent / "spec"

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 16
GIF = b"GIF89a" + b"\x00" * 16
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8
WAV = b"RIFF\x10\x00\x00\x00WAVEfmt " + b"\x00" * 8
MP3_ID3 = b"ID3\x04\x00" + b"\x00" * 16
MP3_FRAME = b"\xff\xfb\x90\x64" + b"\x00" * 16
OGG = b"OggS\x00\x02" + b"\x00" * 16
FLAC = b"fLaC\x00\x00\x00\x22" + b"\x00" * 16
JUNK = b"\x00\x01\x02 not a known format"


class Color(enum.Enum):
    RED = "red"


class Point(BaseModel):
    x: int
    y: int


@dataclass
class Reading:
    when: datetime.datetime
    value: float


def wire(value: Any) -> Any:
    """What the value looks like as JSON on the wire."""
    return json.loads(msgspec.json.encode(value))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def check_against_spec(result: CallToolResult) -> None:
    document = json.loads((SPEC / "2025-06-18" / "schema.json").read_text(encoding="utf-8"))
    schema = {"$ref": "#/definitions/CallToolResult", "definitions": document["definitions"]}
    Draft7Validator(schema).validate(wire(result))


def returning(hint: Any) -> Callable[..., Any]:
    def fn() -> None:
        return None

    fn.__annotations__ = {} if hint is inspect.Parameter.empty else {"return": hint}
    return fn


# --- mime types ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (GIF, "image/gif"),
        (WEBP, "image/webp"),
        (WAV, "audio/wav"),
        (MP3_ID3, "audio/mpeg"),
        (MP3_FRAME, "audio/mpeg"),
        (OGG, "audio/ogg"),
        (FLAC, "audio/flac"),
        (JUNK, None),
        (b"", None),
    ],
)
def test_mime_type_from_magic_bytes(data: bytes, mime: str | None) -> None:
    assert guess_mime_type(data) == mime


@pytest.mark.parametrize(
    ("name", "mime"),
    [
        ("a.PNG", "image/png"),
        ("a.jpg", "image/jpeg"),
        ("a.jpeg", "image/jpeg"),
        ("a.webp", "image/webp"),
        ("a.wav", "audio/wav"),
        ("a.mp3", "audio/mpeg"),
        ("a.flac", "audio/flac"),
        ("a.ogg", "audio/ogg"),
    ],
)
def test_mime_type_from_the_suffix_wins_over_magic(name: str, mime: str) -> None:
    assert guess_mime_type(JUNK, name) == mime
    assert guess_mime_type(None, Path("dir") / name) == mime


# --- helpers -------------------------------------------------------------------------------------


def test_image_from_bytes() -> None:
    block = Image(PNG).to_block()
    assert block == ImageContent(data=b64(PNG), mime_type="image/png")
    assert wire(block) == {"type": "image", "data": b64(PNG), "mimeType": "image/png"}
    assert Image(JUNK, mime_type="image/x-odd").to_block().mime_type == "image/x-odd"


def test_image_from_a_real_file(tmp_path: Path) -> None:
    named = tmp_path / "chart.png"
    named.write_bytes(PNG)
    unnamed = tmp_path / "download.bin"  # the suffix says nothing: the magic bytes do
    unnamed.write_bytes(JPEG)
    assert to_content(Image(path=named)) == [ImageContent(data=b64(PNG), mime_type="image/png")]
    assert to_content(Image(path=str(unnamed))) == [
        ImageContent(data=b64(JPEG), mime_type="image/jpeg")
    ]


def test_audio_from_bytes_and_from_a_file(tmp_path: Path) -> None:
    assert to_content(Audio(WAV)) == [AudioContent(data=b64(WAV), mime_type="audio/wav")]
    song = tmp_path / "song.flac"
    song.write_bytes(FLAC)
    assert Audio(path=song).to_block() == AudioContent(data=b64(FLAC), mime_type="audio/flac")


def test_media_helpers_need_exactly_one_source_and_a_known_type() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Image()
    with pytest.raises(ValueError, match="exactly one"):
        Audio(WAV, path="x.wav")
    with pytest.raises(ValueError, match="cannot tell the type of this image; pass mime_type="):
        Image(JUNK).to_block()


def test_resource_helpers() -> None:
    assert wire(EmbeddedText("file:///a.md", "# A", "text/markdown").to_block()) == {
        "type": "resource",
        "resource": {"uri": "file:///a.md", "text": "# A", "mimeType": "text/markdown"},
    }
    assert wire(EmbeddedText("file:///a.txt", "a").to_block()) == {
        "type": "resource",
        "resource": {"uri": "file:///a.txt", "text": "a"},
    }
    assert wire(EmbeddedBlob("file:///a.gif", GIF).to_block())["resource"] == {
        "uri": "file:///a.gif",
        "blob": b64(GIF),
        "mimeType": "image/gif",
    }
    assert EmbeddedBlob("x:y", JUNK).to_block().resource["mimeType"] == "application/octet-stream"
    assert wire(Link("file:///a.csv", "a.csv", mime_type="text/csv", size=10).to_block()) == {
        "type": "resource_link",
        "uri": "file:///a.csv",
        "name": "a.csv",
        "mimeType": "text/csv",
        "size": 10,
    }


# --- to_content ----------------------------------------------------------------------------------


def test_none_and_strings() -> None:
    assert to_content(None) == []
    assert to_content("hello") == [TextContent(text="hello")]
    assert to_content("") == [TextContent(text="")]


def test_blocks_and_results_pass_through() -> None:
    link = ResourceLink(uri="file:///a", name="a")
    assert to_content(link) == [link]
    result = CallToolResult(content=[TextContent(text="a"), link])
    assert to_content(result) == [TextContent(text="a"), link]


def test_bytes_become_images_audio_or_an_embedded_blob() -> None:
    assert to_content(PNG) == [ImageContent(data=b64(PNG), mime_type="image/png")]
    assert to_content(bytearray(OGG)) == [AudioContent(data=b64(OGG), mime_type="audio/ogg")]
    (block,) = to_content(JUNK)
    assert isinstance(block, EmbeddedResource)
    assert block.resource == {
        "uri": BYTES_URI,
        "blob": b64(JUNK),
        "mimeType": "application/octet-stream",
    }


def test_a_list_with_content_is_the_concatenation_of_its_items() -> None:
    assert to_content(["Here:", Image(PNG), None, [Link("file:///a", "a")], {"k": 1}]) == [
        TextContent(text="Here:"),
        ImageContent(data=b64(PNG), mime_type="image/png"),
        ResourceLink(uri="file:///a", name="a"),
        TextContent(text='{"k":1}'),
    ]
    assert to_content((TextContent(text="a"), b"GIF87a")) == [
        TextContent(text="a"),
        ImageContent(data=b64(b"GIF87a"), mime_type="image/gif"),
    ]


SAMPLE_UUID = uuid.UUID("12345678-1234-5678-1234-567812345678")


class Opaque:
    def __str__(self) -> str:
        return "<opaque>"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (["a", "b"], '["a","b"]'),
        ([1, {"x": None}], '[1,{"x":null}]'),
        ((1, 2), "[1,2]"),
        ([], "[]"),
        ({"a": 1, "b": [True]}, '{"a":1,"b":[true]}'),
        (42, "42"),
        (1.5, "1.5"),
        (False, "false"),
        (Point(x=1, y=2), '{"x":1,"y":2}'),
        ({"p": Point(x=1, y=2)}, '{"p":{"x":1,"y":2}}'),
        ([Point(x=1, y=2)], '[{"x":1,"y":2}]'),
        (
            Reading(datetime.datetime(2024, 5, 1, tzinfo=datetime.UTC), 0.5),
            '{"when":"2024-05-01T00:00:00Z","value":0.5}',
        ),
        ({"id": SAMPLE_UUID, "c": Color.RED}, f'{{"id":"{SAMPLE_UUID}","c":"red"}}'),
        ({"thing": Opaque()}, '{"thing":"<opaque>"}'),
    ],
)
def test_data_becomes_one_block_of_compact_json(value: Any, text: str) -> None:
    assert not is_content(value)
    assert to_content(value) == [TextContent(text=text)]
    assert json_text(value) == text


@pytest.mark.parametrize(
    "value", ["x", b"x", Image(PNG), TextContent(text="x"), ["x", Image(PNG)], (b"x",)]
)
def test_is_content(value: Any) -> None:
    assert is_content(value)


# --- to_call_tool_result -------------------------------------------------------------------------


def test_a_call_tool_result_passes_through() -> None:
    result = CallToolResult(content=[], is_error=True)
    assert to_call_tool_result(result, FunctionSignature.from_function(returning(Point))) is result


def test_without_output_schema_there_is_no_structured_content() -> None:
    signature = FunctionSignature.from_function(returning(str))
    result = to_call_tool_result("hello", signature)
    assert result == CallToolResult(content=[TextContent(text="hello")])
    assert to_call_tool_result({"a": 1}) == CallToolResult(content=[TextContent(text='{"a":1}')])
    check_against_spec(result)


@pytest.mark.parametrize(
    ("hint", "value", "structured", "text"),
    [
        (Point, Point(x=1, y=2), {"x": 1, "y": 2}, '{"x":1,"y":2}'),
        (
            Reading,
            Reading(datetime.datetime(2024, 5, 1), 2.0),
            {"when": "2024-05-01T00:00:00", "value": 2.0},
            '{"when":"2024-05-01T00:00:00","value":2.0}',
        ),
        (dict[str, int], {"a": 1}, {"a": 1}, '{"a":1}'),
        # wrapped results show the value, not the wrapper
        (int, 7, {"result": 7}, "7"),
        (list[Point], [Point(x=0, y=0)], {"result": [{"x": 0, "y": 0}]}, '[{"x":0,"y":0}]'),
        (Point | None, None, {"result": None}, "null"),
    ],
)
def test_structured_content_and_its_json_text(
    hint: Any, value: Any, structured: Any, text: str
) -> None:
    signature = FunctionSignature.from_function(returning(hint))
    assert signature.output_schema is not None
    result = to_call_tool_result(value, signature)
    assert result.structured_content == structured
    # the spec's SHOULD: the same data as JSON text, for clients that ignore structuredContent
    assert result.content == [TextContent(text=text)]
    shown = structured["result"] if signature.wraps_result else structured
    assert json.loads(text) == shown
    Draft202012Validator(signature.output_schema).validate(result.structured_content)
    check_against_spec(result)


def test_content_values_keep_their_blocks_beside_structured_content() -> None:
    signature = FunctionSignature.from_function(returning(str), structured_output=True)
    result = to_call_tool_result("hello", signature)
    assert result.content == [TextContent(text="hello")]
    assert result.structured_content == {"result": "hello"}
    check_against_spec(result)


def test_a_value_that_breaks_the_return_annotation_raises() -> None:
    signature = FunctionSignature.from_function(returning(Point))
    with pytest.raises(TypeError, match="does not fit its return annotation"):
        to_call_tool_result("not a point", signature)


def test_error_result() -> None:
    result = error_result("the archive is offline")
    assert result == CallToolResult(
        content=[TextContent(text="the archive is offline")], is_error=True
    )
    assert wire(result) == {
        "content": [{"type": "text", "text": "the archive is offline"}],
        "isError": True,
    }
    check_against_spec(result)


def test_the_system_table_covers_other_suffixes() -> None:
    assert guess_mime_type(JUNK, "drawing.svg") == "image/svg+xml"
    assert guess_mime_type(PNG, "image.bin") == "image/png"
