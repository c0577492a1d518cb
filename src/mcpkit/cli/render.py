"""Human-readable output of the `mcpkit` verbs, with `rich`.

Layer: applications (cli). Imported only when something is printed for a person: `rich` is
loaded here and nowhere else, so `mcpkit --version` and `--json` never pay for it.

Everything here takes results in their wire form (camelCase dicts, as `msgspec.to_builtins`
gives them), the same data `--json` prints, so the two outputs cannot drift apart. Text is
printed as the server sent it: no markup, no emoji codes, no highlighting, no re-wrapping.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from typing import Any, Final

from rich.console import Console
from rich.table import Table

__all__ = ["print_listing", "print_pong", "print_prompt", "print_resource", "print_tool_result"]

_DESCRIPTION_WIDTH: Final = 60

# For each list: its title, and its columns as (heading, how to read it from an item).
_Column = tuple[str, Callable[[Mapping[str, Any]], str]]


def _console() -> Console:
    return Console(highlight=False, emoji=False, markup=False)


def _text(console: Console, text: str, style: str | None = None) -> None:
    console.print(text, style=style, soft_wrap=True, markup=False, highlight=False)


# ---- lists -----------------------------------------------------------------------------


def _short(text: Any) -> str:
    """The first line of a description, cut to a table cell's width."""
    lines = str(text or "").strip().splitlines()
    first = lines[0] if lines else ""
    if len(first) > _DESCRIPTION_WIDTH or len(lines) > 1:
        return first[: _DESCRIPTION_WIDTH - 1].rstrip() + "…"
    return first


def _title(item: Mapping[str, Any]) -> str:
    return str(item.get("title") or (item.get("annotations") or {}).get("title") or "")


def _prompt_arguments(item: Mapping[str, Any]) -> str:
    return ", ".join(
        arg["name"] + ("*" if arg.get("required") else "") for arg in item.get("arguments") or []
    )


_COLUMNS: Final[dict[str, list[_Column]]] = {
    "tools": [("Name", lambda i: i["name"]), ("Title", _title)],
    "resources": [("URI", lambda i: i["uri"]), ("Name", lambda i: i["name"])],
    "resourceTemplates": [("URI template", lambda i: i["uriTemplate"])],
    "prompts": [("Name", lambda i: i["name"]), ("Arguments (* required)", _prompt_arguments)],
}
_TITLES: Final = {
    "tools": "Tools",
    "resources": "Resources",
    "resourceTemplates": "Resource templates",
    "prompts": "Prompts",
}


def print_listing(listing: Mapping[str, list[Mapping[str, Any]]]) -> None:
    """One table per kind (`tools`, `resources`, `resourceTemplates`, `prompts`); a column
    that is empty for every item (say, no tool has a title) is left out."""
    console = _console()
    for kind, items in listing.items():
        if not items:
            _text(console, f"{_TITLES[kind]}: none")
            continue
        columns = [*_COLUMNS[kind], ("Description", lambda i: _short(i.get("description")))]
        cells = [[read(item) for _, read in columns] for item in items]
        shown = [n for n in range(len(columns)) if n == 0 or any(row[n] for row in cells)]
        table = Table(title=f"{_TITLES[kind]} ({len(items)})", title_justify="left")
        for n in shown:
            last = n == len(columns) - 1
            table.add_column(columns[n][0], no_wrap=not last, ratio=1 if last else None)
        for row in cells:
            table.add_row(*(row[n] for n in shown))
        console.print(table)


# ---- content ---------------------------------------------------------------------------


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    if count < 1024 * 1024:
        return f"{count / 1024:.0f} KB"
    return f"{count / (1024 * 1024):.1f} MB"


def _decoded_size(data: str) -> str:
    try:
        return _size(len(base64.b64decode(data, validate=False)))
    except (binascii.Error, ValueError):
        return f"{len(data)} base64 characters"


def _summary(resource: Mapping[str, Any]) -> str:
    """`[resource URI, mime, size]` for a resource's contents."""
    parts = [str(resource.get("uri", "?"))]
    if resource.get("mimeType"):
        parts.append(str(resource["mimeType"]))
    if "blob" in resource:
        parts.append(_decoded_size(str(resource["blob"])))
    elif "text" in resource:
        parts.append(f"{len(str(resource['text']))} characters")
    return f"[resource {', '.join(parts)}]"


def _block_text(block: Mapping[str, Any]) -> str:
    """How one content block reads on a terminal."""
    kind = block.get("type")
    if kind == "text":
        return str(block.get("text", ""))
    if kind in ("image", "audio"):
        mime = block.get("mimeType") or kind
        return f"[{mime}, {_decoded_size(str(block.get('data', '')))}]"
    if kind == "resource_link":
        extra = f", {block['mimeType']}" if block.get("mimeType") else ""
        return f"[link {block.get('name', '?')}: {block.get('uri', '?')}{extra}]"
    if kind == "resource":
        return _summary(block.get("resource") or {})
    return json.dumps(block, indent=2, ensure_ascii=False)


def _is_copy(block: Mapping[str, Any], structured: Any) -> bool:
    """A text block that only repeats the structured content (as servers are asked to)."""
    if block.get("type") != "text":
        return False
    try:
        return bool(json.loads(str(block.get("text", ""))) == structured)
    except ValueError:
        return False


def print_tool_result(result: Mapping[str, Any]) -> None:
    """Each content block by its type, then `structuredContent` as JSON; red if isError."""
    console = _console()
    style = "red" if result.get("isError") else None
    structured = result.get("structuredContent")
    for block in result.get("content") or []:
        if structured is None or not _is_copy(block, structured):
            _text(console, _block_text(block), style)
    if structured is not None:
        _text(console, json.dumps(structured, indent=2, ensure_ascii=False), style)


def print_resource(result: Mapping[str, Any]) -> None:
    """Text contents as they are; binary ones as a summary line."""
    console = _console()
    contents = result.get("contents") or []
    for item in contents:
        if len(contents) > 1:
            _text(console, f"--- {item.get('uri', '?')}", "bold")
        if "text" in item:
            _text(console, str(item["text"]))
        else:
            mime = item.get("mimeType") or "application/octet-stream"
            _text(console, f"[{mime}, {_decoded_size(str(item.get('blob', '')))}]")


def print_prompt(result: Mapping[str, Any]) -> None:
    """The prompt's description, then each message under its role."""
    console = _console()
    if result.get("description"):
        _text(console, str(result["description"]), "dim")
    for message in result.get("messages") or []:
        _text(console, f"{message.get('role', '?')}:", "bold")
        _text(console, _block_text(message.get("content") or {}))


def print_pong(info: Mapping[str, Any]) -> None:
    """`NAME: pong (ERA era, protocol VERSION)`."""
    name = (info.get("serverInfo") or {}).get("name", "?")
    line = f"{name}: pong ({info.get('era', '?')} era, protocol {info.get('protocolVersion')})"
    _text(_console(), line)
