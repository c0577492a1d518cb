"""`key=value` arguments of `mcpkit call` and `mcpkit prompt`, turned into a JSON object.

Layer: applications (cli). Pure: no I/O, no mcpkit imports, so it is tested without a
server.

Typing `n=3` on a shell means the number 3 far more often than the string "3", so a value is
parsed as JSON when it parses (`flag=true`, `tags=["a","b"]`, `point={"x":1}`) and kept as
text otherwise (`city=Paris`). The guess is wrong for a string that looks like JSON (a zip
code `01234`, a version `1.0`): when the tool's input schema says a property is a string,
its text is kept as typed. `--args '{...}'` gives a whole object at once; explicit
`key=value` pairs win over its keys.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "ArgumentError",
    "merge_arguments",
    "parse_pairs",
    "prompt_arguments",
    "string_properties",
]


class ArgumentError(ValueError):
    """A `key=value` pair or `--args` document is malformed; the message says which."""


def parse_value(text: str) -> Any:
    """`text` as JSON when it is valid JSON, else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_pairs(pairs: Iterable[str], *, keep_text: Collection[str] = ()) -> dict[str, Any]:
    """`["a=1", "b=x"]` → `{"a": 1, "b": "x"}`; keys in `keep_text` keep their raw text.

    Only the first `=` splits, so values may contain `=`. A repeated key: the last one wins.

    Raises:
        ArgumentError: a pair has no `=` or an empty key.
    """
    arguments: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep:
            raise ArgumentError(f"argument {pair!r} is not key=value")
        if not key:
            raise ArgumentError(f"argument {pair!r} has an empty key")
        arguments[key] = text if key in keep_text else parse_value(text)
    return arguments


def parse_object(document: str | None) -> dict[str, Any]:
    """The `--args` JSON object (empty without one).

    Raises:
        ArgumentError: the document is not JSON, or not a JSON object.
    """
    if document is None:
        return {}
    try:
        value = json.loads(document)
    except ValueError as exc:
        raise ArgumentError(f"--args is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ArgumentError("--args must be a JSON object, like '{\"a\": 1}'")
    return value


def merge_arguments(
    pairs: Sequence[str], document: str | None = None, *, keep_text: Collection[str] = ()
) -> dict[str, Any]:
    """The `--args` object with the `key=value` pairs on top.

    Raises:
        ArgumentError: a pair or the document is malformed.
    """
    return {**parse_object(document), **parse_pairs(pairs, keep_text=keep_text)}


def prompt_arguments(pairs: Sequence[str], document: str | None = None) -> dict[str, str]:
    """Arguments for `prompts/get`, which are strings by the spec: pairs keep their text,
    and non-string `--args` values become their JSON text.

    Raises:
        ArgumentError: a pair or the document is malformed.
    """
    keys = [pair.partition("=")[0] for pair in pairs]
    merged = merge_arguments(pairs, document, keep_text=keys)
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in merged.items()}


def string_properties(schema: Mapping[str, Any] | None) -> set[str]:
    """The properties an input schema declares as strings (`"type": "string"`, a type list
    of only "string" (and "null"), or a `const`/`enum` of strings)."""
    properties = (schema or {}).get("properties")
    if not isinstance(properties, Mapping):
        return set()
    return {name for name, spec in properties.items() if _is_string(spec)}


def _is_string(spec: Any) -> bool:
    if not isinstance(spec, Mapping):
        return False
    kind = spec.get("type")
    if kind == "string":
        return True
    if isinstance(kind, list) and "string" in kind:
        return set(kind) <= {"string", "null"}
    choices = spec.get("enum", [spec["const"]] if "const" in spec else None)
    return kind is None and bool(choices) and all(isinstance(c, str) for c in choices)
