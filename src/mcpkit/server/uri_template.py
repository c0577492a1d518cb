"""RFC 6570 URI templates for MCP resource templates: expansion, matching, routing.

Layer: server. Pure string work, no I/O. The framework parses `@server.resource("file:///{path*}")`
once, `match` takes the variables out of a `resources/read` URI, and `TemplateRouter` picks
the most specific of several templates. Expansion is RFC 6570 level 4 (all operators, lists,
associative arrays, explode `*`, prefix `:n`). Matching inverts the forms that can be:

    {a} {a,b}     one path segment each (never empty, no `/`); several split on `,`
    {.a} {/a,b}   one segment each, after its `.` or `/`
    {a*} {+a}     the rest of the path (multi-segment): spans `/`, stops at `?`/`#`, may be empty
    {#a} {/a*}    the fragment (multi-segment); path segments as a list. Both absent if none
    {?a,b} {&a}   query parameters, last in the template: any order, each optional, unknown
                  ones ignored; `{?a*}` collects a repeated `a=` into a list

A one-segment variable ends at the first character that can begin what follows it (`{a}-{b}`
reads `x-y-z` as `x`, `y-z`). Expansion-only (`match` raises ValueError): `{a:3}`, `;`, an
exploded `.`, several variables under `+`/`#`/`*`, query expressions before the end, two
multi-segment variables (or fragments), a variable right after another (`{a}{b}`). So matching
never backtracks much: its time is linear in the URI. Values are percent-decoded as UTF-8
(`+` stays `+`); a bad escape or bad UTF-8 means no match.

How path safety works: `file:///srv/{+path}` must not reach `/etc/passwd` or `../x`. If any
decoded value (or list item) is rejected, the URI does not match: `match` returns None and the
framework answers "resource not found", so probes learn nothing. Segments are split on `/` and
`\\`. Every value rejects C0 controls and DEL (NUL above all); a percent-triplet left after
decoding (double encoding: `%252e`); a dot segment: `.`, `..`, or only dots and spaces (`...`,
`.. `, which Windows trims to `..`). One-segment variables also reject the empty value, `/`
and `\\` (so `%2F`, `%5C`) and a leading drive `X:`; multi-segment ones reject empty segments
(a leading `/` or `\\`: absolute; `//`; a trailing `/`) and a leading drive `X:`, but allow
the empty value (the template's root). Query values get only the first three rules.
"""

from __future__ import annotations

import bisect
import enum
import functools
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Final, Generic, NamedTuple, TypeAlias, TypeVar, final
from urllib.parse import quote, unquote_to_bytes

import msgspec

__all__ = ["RouteMatch", "TemplateRouter", "UriTemplate", "Value", "Variables", "is_template"]

T = TypeVar("T")

# For `expand`: text, a number, a list, a mapping; None (like [] and {}) leaves the variable out.
Value: TypeAlias = str | int | float | Sequence[str] | Mapping[str, str] | None
Variables: TypeAlias = dict[str, str | list[str]]  # what `match` returns: decoded values

_RESERVED: Final = ":/?#[]@!$&'()*+,;="
_PCT_TRIPLET: Final = re.compile(r"(%[0-9A-Fa-f]{2})")
_BAD_ESCAPE: Final = re.compile(r"%(?![0-9A-Fa-f]{2})")
_EXPRESSION: Final = re.compile(r"\{([^{}]*)\}")
_VARCHAR: Final = r"(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})"
_VARSPEC: Final = re.compile(rf"({_VARCHAR}(?:\.?{_VARCHAR})*)(?:(\*)|:([1-9][0-9]{{0,3}}))?")
_FUTURE_OPERATORS: Final = frozenset("=,!@|")
_QUERY_OPERATORS: Final = frozenset("?&")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_SEPARATOR: Final = re.compile(r"[/\\]")
_DRIVE: Final = re.compile(r"[A-Za-z]:")


class _Operator(msgspec.Struct, frozen=True):
    """One row of RFC 6570's expansion table (appendix A)."""

    first: str
    sep: str
    named: bool
    ifemp: str
    reserved: bool


_OPERATORS: Final = {
    "": _Operator("", ",", False, "", False),
    "+": _Operator("", ",", False, "", True),
    "#": _Operator("#", ",", False, "", True),
    ".": _Operator(".", ".", False, "", False),
    "/": _Operator("/", "/", False, "", False),
    ";": _Operator(";", ";", True, "", False),
    "?": _Operator("?", "&", True, "=", False),
    "&": _Operator("&", "&", True, "=", False),
}


class _VarSpec(msgspec.Struct, frozen=True):
    name: str
    explode: bool
    prefix: int | None


class _Expression(msgspec.Struct, frozen=True):
    text: str
    operator: str
    varspecs: tuple[_VarSpec, ...]


_Part: TypeAlias = str | _Expression  # a literal (already percent-encoded) or an expression


# What a matched value is, which decides its safety rules (see the module docstring).
_Kind = enum.Enum("_Kind", "SEGMENT PATH SEGMENTS QUERY")
_Capture: TypeAlias = tuple[str, _Kind]  # a variable's name and what kind of value it holds


class _Matcher(msgspec.Struct, frozen=True):
    regex: re.Pattern[str]
    captures: tuple[_Capture, ...]
    query: Mapping[str, bool]  # query variable name -> explode


class _Unmatchable(Exception): ...  # a form `match` cannot invert; surfaces as ValueError


def is_template(text: str) -> bool:
    """Whether `text` has a `{...}` expression (is a template, not a fixed URI); not validated."""
    return _EXPRESSION.search(text) is not None


@final
class UriTemplate:
    """A parsed RFC 6570 URI template.

    Attributes:
        variables: the variable names, in order of first appearance, without repeats.
    """

    __slots__ = ("_matcher", "_parts", "_specificity", "_template", "_unmatchable", "variables")

    variables: tuple[str, ...]

    def __init__(self, template: str) -> None:
        """Parse `template` once.

        Raises:
            ValueError: unbalanced braces, an empty expression, a bad variable name or
                modifier, or a reserved operator (`=`, `,`, `!`, `@`, `|`).
        """
        self._template = template
        self._parts = _parse(template)
        expressions = [part for part in self._parts if isinstance(part, _Expression)]
        self.variables = tuple(dict.fromkeys(s.name for e in expressions for s in e.varspecs))
        self._matcher: _Matcher | None = None
        self._unmatchable = ""
        try:
            self._matcher = _compile(self._parts)
        except _Unmatchable as exc:
            self._unmatchable = f"URI template {template!r} cannot be matched: {exc}"
        literal = sum(len(part) for part in self._parts if isinstance(part, str))
        captures = self._matcher.captures if self._matcher else ()
        spans = sum(kind in (_Kind.PATH, _Kind.SEGMENTS) for _, kind in captures)
        self._specificity = (-literal, spans, len(self.variables))

    @property
    def matchable(self) -> bool:
        """Whether `match` can invert this template (see the module docstring)."""
        return self._matcher is not None

    def expand(self, variables: Mapping[str, Value]) -> str:
        """The URI for these variable values (RFC 6570 level 4; missing ones are undefined).

        Raises:
            ValueError: a prefix modifier on a list or mapping value, or text that is not
                valid Unicode (lone surrogates).
            TypeError: a value that is not text, a number, a list or a mapping.
        """
        pieces = [
            part if isinstance(part, str) else _expand_expression(part, variables)
            for part in self._parts
        ]
        return "".join(pieces)

    def match(self, uri: str) -> Variables | None:
        """The decoded variables of `uri`, or None if it does not fit or a value is unsafe.

        Variables absent from the URI (an optional query parameter, an empty `{/a*}`, a
        missing fragment) are absent from the result. Never raises for any `uri`.

        Raises:
            ValueError: the template is not matchable (checked before `uri` is looked at).
        """
        if self._matcher is None:
            raise ValueError(self._unmatchable)
        return _match(self._matcher, uri)

    def __str__(self) -> str:
        return self._template

    def __repr__(self) -> str:
        return f"UriTemplate({self._template!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, UriTemplate):
            return self._template == other._template
        return NotImplemented

    def __hash__(self) -> int:
        return hash((UriTemplate, self._template))


def _parse(template: str) -> tuple[_Part, ...]:
    parts: list[_Part] = []
    position = 0
    for found in _EXPRESSION.finditer(template):
        parts.extend(_literal(template, position, found.start()))
        parts.append(_parse_expression(template, found.group(1)))
        position = found.end()
    parts.extend(_literal(template, position, len(template)))
    return tuple(parts)


def _literal(template: str, start: int, end: int) -> list[_Part]:
    text = template[start:end]
    for brace in "{}":
        if brace in text:
            where = start + text.index(brace)
            raise ValueError(f"unbalanced {brace!r} at index {where} of URI template {template!r}")
    # RFC 6570 section 3.1: literal characters not allowed in a URI are percent-encoded.
    return [_encode(text, allow_reserved=True)] if text else []


def _parse_expression(template: str, body: str) -> _Expression:
    if body[:1] in _FUTURE_OPERATORS or not body:
        what = f"unsupported operator {body[0]!r}" if body else "empty expression '{}'"
        raise ValueError(f"{what} in URI template {template!r} (operators: + # . / ; ? &)")
    operator = body[0] if body[0] in _OPERATORS else ""
    specs = []
    for text in body[len(operator) :].split(","):
        if (found := _VARSPEC.fullmatch(text)) is None:
            raise ValueError(
                f"bad variable {text!r} in URI template {template!r}: a name is letters, "
                "digits, '_' (and inner '.'), then optionally '*' or ':1' to ':9999'"
            )
        name, star, prefix = found.groups()
        specs.append(_VarSpec(name, star is not None, int(prefix) if prefix else None))
    return _Expression(body, operator, tuple(specs))


def _encode(text: str, allow_reserved: bool) -> str:
    if not allow_reserved:
        return quote(text, safe="")
    # `+` and `#` keep reserved characters and existing percent-triplets (odd split items).
    pieces = _PCT_TRIPLET.split(text)
    return "".join(p if i % 2 else quote(p, safe=_RESERVED) for i, p in enumerate(pieces))


def _expand_expression(expression: _Expression, variables: Mapping[str, Value]) -> str:
    operator = _OPERATORS[expression.operator]
    expanded = (_expand_varspec(operator, s, variables.get(s.name)) for s in expression.varspecs)
    pieces = [piece for piece in expanded if piece is not None]
    return operator.first + operator.sep.join(pieces) if pieces else ""


def _expand_varspec(operator: _Operator, spec: _VarSpec, value: Value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str | int | float):
        text = str(value)[: spec.prefix] if spec.prefix is not None else str(value)
        encoded = _encode(text, operator.reserved)
        return _labelled(operator, spec.name, encoded) if operator.named else encoded
    members = _members(spec.name, value)
    if not members:
        return None
    if spec.prefix is not None:
        raise ValueError(f"a prefix cannot apply to the list or mapping {spec.name!r}")
    return _expand_members(operator, spec, members)


def _members(name: str, value: object) -> list[tuple[str | None, str]]:
    """(key, value) pairs of a composite value; the key is None for list items."""
    if isinstance(value, Mapping):
        return [(str(key), str(item)) for key, item in value.items()]
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [(None, str(item)) for item in value]
    kind = type(value).__name__
    raise TypeError(f"variable {name!r}: expected text, a number, a list or a mapping, not {kind}")


def _expand_members(
    operator: _Operator, spec: _VarSpec, members: list[tuple[str | None, str]]
) -> str:
    enc = functools.partial(_encode, allow_reserved=operator.reserved)
    if not spec.explode:
        flat = ",".join(enc(text) for pair in members for text in pair if text is not None)
        return _labelled(operator, spec.name, flat) if operator.named else flat
    if operator.named:
        return operator.sep.join(
            _labelled(operator, spec.name if key is None else enc(key), enc(item))
            for key, item in members
        )
    return operator.sep.join(
        enc(item) if key is None else f"{enc(key)}={enc(item)}" for key, item in members
    )


def _labelled(operator: _Operator, label: str, encoded: str) -> str:
    return f"{label}={encoded}" if encoded else label + operator.ifemp


def _compile(parts: tuple[_Part, ...]) -> _Matcher:
    is_query = lambda p: isinstance(p, _Expression) and p.operator in _QUERY_OPERATORS  # noqa: E731
    tail = list(itertools.takewhile(is_query, reversed(parts)))[::-1]
    head = parts[: len(parts) - len(tail)]
    spanning = [p.operator == "#" for p in head if isinstance(p, _Expression) and _spans(p)]
    _check_matchable(
        max(spanning.count(True), spanning.count(False)) <= 1,
        "two multi-segment variables (or two fragments) cannot be told apart",
    )
    pieces: list[str] = []
    captures: list[_Capture] = []
    for index, part in enumerate(head):
        if isinstance(part, str):
            pieces.append(re.escape(part))
            continue
        piece, names = _head_pattern(part, _stop(head[index + 1 :], tail))
        pieces.append(piece)
        captures.extend(names)
    query: dict[str, bool] = {}
    for part in tail:
        assert isinstance(part, _Expression)
        _check_matchable(not any(s.prefix for s in part.varspecs), f"{{{part.text}}} has a prefix")
        query.update((spec.name, spec.explode) for spec in part.varspecs)
        if part is tail[0]:  # `?` (or `&` after a literal `?`) opens the query
            pieces.append(f"(?:{re.escape(part.operator)}([^#]*))?")
    return _Matcher(re.compile("".join(pieces), re.DOTALL), tuple(captures), query)


def _spans(expression: _Expression) -> bool:
    return expression.operator in ("+", "#") or any(s.explode for s in expression.varspecs)


def _stop(rest: Sequence[_Part], tail: Sequence[_Part]) -> str | None:
    """The character that ends a one-segment variable ("" the URI's end, None: unknown)."""
    following = rest[0] if rest else (tail[0] if tail else "")
    if isinstance(following, str):
        return following[:1]
    return _OPERATORS[following.operator].first or None


# operator -> (pattern, kind) of a multi-segment variable (at most one per template, so the
# backtracking of its greedy pattern stays linear)
_SPANNING: Final = {
    "": ("([^?#]*)", _Kind.PATH),
    "+": ("([^?#]*)", _Kind.PATH),
    "#": ("(?:#(.*))?", _Kind.PATH),
    "/": ("((?:/[^/?#]*)*)", _Kind.SEGMENTS),
}


def _head_pattern(expression: _Expression, stop: str | None) -> tuple[str, list[_Capture]]:
    operator, specs = expression.operator, expression.varspecs
    what = f"{{{expression.text}}} is expansion-only (a prefix, ';', '?' or '&' before the end"
    ok = operator in ("", ".", "/", "+", "#") and not any(spec.prefix for spec in specs)
    if _spans(expression):
        ok = ok and len(specs) == 1 and operator in _SPANNING
        _check_matchable(ok, what + ", an exploded '.', several variables under '+', '#', '*')")
        pattern, kind = _SPANNING[operator]
        return pattern, [(specs[0].name, kind)]
    _check_matchable(ok, what + ")")
    _check_matchable(stop is not None, f"{{{expression.text}}} follows a variable directly")
    # A one-segment variable ends at the first character that can begin what follows it,
    # possessively: the regex never backtracks into it, so matching stays linear.
    ends = [operator or ","] * (len(specs) - 1) + [stop or ""]
    classes = [f"{re.escape(operator)}([^/?#{re.escape(operator + end)}]++)" for end in ends]
    return ("," if not operator else "").join(classes), [(s.name, _Kind.SEGMENT) for s in specs]


def _check_matchable(ok: bool, reason: str) -> None:
    if not ok:
        raise _Unmatchable(reason)


def _match(matcher: _Matcher, uri: str) -> Variables | None:
    found = matcher.regex.fullmatch(uri)
    if found is None:
        return None
    groups = found.groups()
    result: Variables = {}
    for (name, kind), raw in zip(matcher.captures, groups[: len(matcher.captures)], strict=True):
        if raw is None or (kind is _Kind.SEGMENTS and not raw):
            continue
        value = _decode_value(raw, kind)
        if value is None or result.setdefault(name, value) != value:
            return None
    if matcher.query and groups[-1] is not None:
        return _merge_query(result, groups[-1], matcher.query)
    return result


def _merge_query(result: Variables, query: str, wanted: Mapping[str, bool]) -> Variables | None:
    found: dict[str, list[str]] = {}
    for item in query.split("&"):
        key, _, raw = item.partition("=")
        if key not in wanted:
            continue  # unknown parameters (cache busters, tracking) do not stop a match
        value = _decode_scalar(raw, _Kind.QUERY)
        if value is None:
            return None
        found.setdefault(key, []).append(value)
    for name, values in found.items():
        merged: str | list[str] = values if wanted[name] else values[0]
        if (len(values) > 1 and not wanted[name]) or result.setdefault(name, merged) != merged:
            return None  # several values where one is expected, or a clash with the path
    return result


def _decode_value(raw: str, kind: _Kind) -> str | list[str] | None:
    if kind is not _Kind.SEGMENTS:
        return _decode_scalar(raw, kind)
    items = [_decode_scalar(item, _Kind.SEGMENT) for item in raw[1:].split("/")]
    return None if None in items else [item for item in items if item is not None]


def _decode_scalar(raw: str, kind: _Kind) -> str | None:
    if _BAD_ESCAPE.search(raw):
        return None
    try:
        value = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeError:  # invalid UTF-8, or lone surrogates in the URI text itself
        return None
    return value if _is_safe(value, kind) else None


def _is_safe(value: str, kind: _Kind) -> bool:
    """The path-safety rules of the module docstring."""
    if _CONTROL.search(value) or _PCT_TRIPLET.search(value):
        return False
    segments = _SEPARATOR.split(value)
    if any("." in segment and not segment.strip(". ") for segment in segments):
        return False
    if kind is _Kind.QUERY or (kind is _Kind.PATH and not value):
        return True
    if _DRIVE.match(value) or not all(segments):
        return False
    return kind is _Kind.PATH or len(segments) == 1


class RouteMatch(NamedTuple, Generic[T]):
    """The winner of `TemplateRouter.match`: the route's value and the URI's variables."""

    value: T
    variables: Variables


@final
class TemplateRouter(Generic[T]):
    """Several templates, each with a value (a handler), and the most specific match for a URI.

    Routes are tried in a fixed order and the first that matches wins:
    1. more literal characters first (`users://me/profile` before `users://{id}/profile`);
    2. then fewer multi-segment variables (`{a*}`, `{+a}`, `{#a}`, `{/a*}`);
    3. then fewer variables;
    4. then the one added first.
    The order depends only on the templates and the order they were added: deterministic.
    """

    def __init__(self, routes: Iterable[tuple[UriTemplate | str, T]] = ()) -> None:
        """Route each (template, value) pair of `routes`, in order, as `add` does.

        Raises:
            ValueError: as `add`.
        """
        self._routes: list[tuple[tuple[int, ...], UriTemplate, T]] = []
        for template, value in routes:
            self.add(template, value)

    def add(self, template: UriTemplate | str, value: T) -> UriTemplate:
        """Route URIs that fit `template` to `value`; returns the parsed template.

        Raises:
            ValueError: the template is malformed, not matchable, or already routed.
        """
        parsed = template if isinstance(template, UriTemplate) else UriTemplate(template)
        if not parsed.matchable:
            raise ValueError(parsed._unmatchable)
        if any(routed == parsed for _, routed, _ in self._routes):
            raise ValueError(f"URI template {str(parsed)!r} is already routed")
        rank = (*parsed._specificity, len(self._routes))  # nothing is removed: a counter
        bisect.insort(self._routes, (rank, parsed, value), key=lambda route: route[0])
        return parsed

    def match(self, uri: str) -> RouteMatch[T] | None:
        """The most specific route whose template matches `uri` (safely), or None."""
        for _, template, value in self._routes:
            variables = template.match(uri)
            if variables is not None:
                return RouteMatch(value, variables)
        return None

    def __len__(self) -> int:
        return len(self._routes)

    def __iter__(self) -> Iterator[tuple[UriTemplate, T]]:
        return iter([(template, value) for _, template, value in self._routes])
