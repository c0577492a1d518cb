"""Return values to tool results: what a tool function returns becomes content blocks.

Layer: server. Pure conversion: no I/O except reading the file behind `Image(path=...)` or
`Audio(path=...)` when it is converted, and no knowledge of sessions or transports.
`schema.py` decides the output schema; this module assembles the `CallToolResult`.

`to_content(value)`, by the value's kind (first match wins):

- None → no blocks; `str` → one text block; a content block → itself; a helper below
  (`Image`, `Audio`, `EmbeddedText`, `EmbeddedBlob`, `Link`) → its block; a
  `CallToolResult` → its content.
- `bytes` → an image or audio block when the magic bytes say png/jpeg/gif/webp or
  wav/mp3/ogg/flac; otherwise an embedded blob resource (`application/octet-stream`,
  uri `mcpkit:bytes`).
- a list or tuple holding at least one content item (block, helper, bytes) → the
  concatenation of each item's blocks. Any other list is data: the next rule.
- anything else (dict, list of JSON values, pydantic model, dataclass, number...) is data:
  one text block with its compact JSON; objects JSON cannot hold become their `str()`.

`to_call_tool_result(value, signature)`:

- a `CallToolResult` passes through untouched.
- no output schema → `content = to_content(value)`, no structured content.
- with an output schema → `structured_content = signature.serialize_output(value)`; the
  content is `to_content(value)` when the value is content (it already shows the model
  the result), else one text block holding the compact JSON of the structured content
  (the spec's SHOULD, server/tools "Structured Content", so clients that ignore
  `structuredContent` see the same data). A wrapped result shows its `result` only: `42`,
  not `{"result":42}`; the wrapper exists because an output schema must be an object.
"""

from __future__ import annotations

import base64
from abc import ABC, abstractmethod
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar, final

import msgspec
from msgspec import UNSET, UnsetType
from pydantic import BaseModel

from mcpkit.protocol.types import (
    AudioContent,
    BlobResourceContents,
    CallToolResult,
    ContentBlock,
    EmbeddedResource,
    ImageContent,
    ResourceLink,
    TextContent,
    TextResourceContents,
)

if TYPE_CHECKING:
    from mcpkit.server.schema import FunctionSignature

__all__ = [
    "BYTES_URI",
    "CONTENT_BLOCK_TYPES",
    "CONTENT_TYPES",
    "Audio",
    "ContentHelper",
    "EmbeddedBlob",
    "EmbeddedText",
    "Image",
    "Link",
    "error_result",
    "guess_mime_type",
    "is_content",
    "json_text",
    "to_call_tool_result",
    "to_content",
]

_T = TypeVar("_T")

BYTES_URI: Final = "mcpkit:bytes"
"""The uri of the embedded resource that bare, unrecognized `bytes` become."""

OCTET_STREAM: Final = "application/octet-stream"

CONTENT_BLOCK_TYPES: Final = (
    TextContent,
    ImageContent,
    AudioContent,
    ResourceLink,
    EmbeddedResource,
)


class ContentHelper(ABC):
    """A value a tool may return that stands for one content block."""

    __slots__ = ()

    @abstractmethod
    def to_block(self) -> ContentBlock:
        """The content block (reads the file, if the helper names one)."""


CONTENT_TYPES: Final = (bytes, bytearray, ContentHelper, CallToolResult, *CONTENT_BLOCK_TYPES)
"""Types that are content rather than data (`str` aside): they have no JSON form."""


# --- mime types -------------------------------------------------------------------------------

_SUFFIXES: Final = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".flac": "audio/flac",
}
_MAGIC: Final = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"ID3", "audio/mpeg"),
    (b"OggS", "audio/ogg"),
    (b"fLaC", "audio/flac"),
)
_RIFF: Final = {b"WEBP": "image/webp", b"WAVE": "audio/wav"}


def guess_mime_type(data: bytes | None = None, path: str | Path | None = None) -> str | None:
    """The mime type of media: from the path's suffix for the common image and audio formats,
    else from the data's magic bytes, else from the system's suffix table; None if unsure.

    The magic bytes come before the system table so that a vague suffix (`.bin`) does not
    hide a PNG.
    """
    suffix = Path(path).suffix.lower() if path is not None else ""
    import mimetypes  # lazily: it reads the system's type maps, and few calls get here

    return _SUFFIXES.get(suffix) or _sniff(data or b"") or mimetypes.guess_type(f"x{suffix}")[0]


def _sniff(data: bytes) -> str | None:
    for prefix, mime in _MAGIC:
        if data.startswith(prefix):
            return mime
    if data.startswith(b"RIFF"):
        return _RIFF.get(data[8:12])
    if len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0:
        return "audio/mpeg"  # an MPEG audio frame header without an ID3 tag
    return None


# --- helpers ----------------------------------------------------------------------------------


def _unset(value: _T | None) -> _T | UnsetType:
    return UNSET if value is None else value


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True, slots=True)
class _Media(ContentHelper):
    data: bytes | None = None
    _: KW_ONLY
    path: str | Path | None = None
    mime_type: str | None = None

    def __post_init__(self) -> None:
        if (self.data is None) == (self.path is None):
            raise ValueError(f"{type(self).__name__}() takes data or path=, exactly one")

    def _read(self) -> tuple[str, str]:
        """(base64 data, mime type); reads the file now if the helper names one."""
        data = self.data if self.data is not None else Path(str(self.path)).read_bytes()
        mime = self.mime_type or guess_mime_type(data, self.path)
        if mime is None:
            kind = type(self).__name__.lower()
            raise ValueError(f"cannot tell the type of this {kind}; pass mime_type=")
        return _b64(data), mime


@final
@dataclass(frozen=True, slots=True)
class Image(_Media):
    """An image to return from a tool: `Image(png_bytes)` or `Image(path="chart.png")`.

    The mime type, when not given, comes from the path's suffix or the data's magic bytes.
    """

    def to_block(self) -> ImageContent:
        data, mime = self._read()
        return ImageContent(data=data, mime_type=mime)


@final
@dataclass(frozen=True, slots=True)
class Audio(_Media):
    """Audio to return from a tool: `Audio(wav_bytes)` or `Audio(path="note.mp3")`.

    The mime type, when not given, comes from the path's suffix or the data's magic bytes.
    """

    def to_block(self) -> AudioContent:
        data, mime = self._read()
        return AudioContent(data=data, mime_type=mime)


@final
@dataclass(frozen=True, slots=True)
class EmbeddedText(ContentHelper):
    """A text resource embedded in the result (`type: resource` with `text`)."""

    uri: str
    text: str
    mime_type: str | None = None

    def to_block(self) -> EmbeddedResource:
        contents = TextResourceContents(
            uri=self.uri, text=self.text, mime_type=_unset(self.mime_type)
        )
        return EmbeddedResource(resource=msgspec.to_builtins(contents))


@final
@dataclass(frozen=True, slots=True)
class EmbeddedBlob(ContentHelper):
    """A binary resource embedded in the result (`type: resource` with base64 `blob`).

    Without a mime type, the magic bytes are tried, then `application/octet-stream`.
    """

    uri: str
    data: bytes
    mime_type: str | None = None

    def to_block(self) -> EmbeddedResource:
        mime = self.mime_type or guess_mime_type(self.data) or OCTET_STREAM
        contents = BlobResourceContents(uri=self.uri, blob=_b64(self.data), mime_type=mime)
        return EmbeddedResource(resource=msgspec.to_builtins(contents))


@final
@dataclass(frozen=True, slots=True)
class Link(ContentHelper):
    """A link to a resource the client can read (`type: resource_link`)."""

    uri: str
    name: str
    _: KW_ONLY
    title: str | None = None
    description: str | None = None
    mime_type: str | None = None
    size: int | None = None

    def to_block(self) -> ResourceLink:
        return ResourceLink(
            uri=self.uri,
            name=self.name,
            title=_unset(self.title),
            description=_unset(self.description),
            mime_type=_unset(self.mime_type),
            size=_unset(self.size),
        )


# --- conversion -------------------------------------------------------------------------------


def _bytes_block(data: bytes) -> ContentBlock:
    mime = guess_mime_type(data)
    if mime is not None and mime.startswith("image/"):
        return ImageContent(data=_b64(data), mime_type=mime)
    if mime is not None and mime.startswith("audio/"):
        return AudioContent(data=_b64(data), mime_type=mime)
    return EmbeddedBlob(BYTES_URI, data, OCTET_STREAM).to_block()


def is_content(value: object) -> bool:
    """Whether a return value is content (shown as blocks) rather than data (shown as JSON)."""
    if isinstance(value, list | tuple):
        return any(isinstance(item, CONTENT_TYPES) for item in value)
    return isinstance(value, (str, *CONTENT_TYPES))


def _builtin(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return str(value)  # JSON has no form for it; its text is the most useful thing to show


def json_text(value: object) -> str:
    """Compact JSON of a value: models, dataclasses, datetimes, enums, UUIDs included."""
    return msgspec.json.encode(value, enc_hook=_builtin).decode()


def to_content(value: object) -> list[ContentBlock]:
    """The content blocks for a tool's return value (rules in the module docstring)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [TextContent(text=value)]
    if isinstance(value, CONTENT_BLOCK_TYPES):
        return [value]
    if isinstance(value, ContentHelper):
        return [value.to_block()]
    if isinstance(value, bytes | bytearray):
        return [_bytes_block(bytes(value))]
    if isinstance(value, CallToolResult):
        return list(value.content)
    if isinstance(value, list | tuple) and is_content(value):
        return [block for item in value for block in to_content(item)]
    return [TextContent(text=json_text(value))]


def to_call_tool_result(
    value: object, signature: FunctionSignature | None = None
) -> CallToolResult:
    """The result of a tool call for its return value (rules in the module docstring).

    Raises:
        TypeError: the value does not fit the function's return annotation.
    """
    if isinstance(value, CallToolResult):
        return value
    if signature is None or signature.output_schema is None:
        return CallToolResult(content=to_content(value))
    structured = signature.serialize_output(value)
    shown = structured["result"] if signature.wraps_result else structured
    content: list[ContentBlock] = (
        to_content(value) if is_content(value) else [TextContent(text=json_text(shown))]
    )
    return CallToolResult(content=content, structured_content=structured)


def error_result(message: str) -> CallToolResult:
    """A failed call the model can read: `isError: true` and one text block."""
    return CallToolResult(content=[TextContent(text=message)], is_error=True)
