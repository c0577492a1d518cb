"""`WWW-Authenticate` challenges (RFC 9110 §11.6.1, RFC 6750 §3), as a client reads them.

Layer: auth. A protected MCP server answers 401 with `Bearer resource_metadata="…", scope="…"`
(RFC 9728 §5.1) and 403 with `Bearer error="insufficient_scope", scope="…"`; a DPoP server
adds a `DPoP` challenge. Several challenges may share one header (or come in repeated
headers, which the wire joins with ", "), so this is a small tokenizer, not a regex.
"""

from __future__ import annotations

__all__ = ["Challenge", "parse_challenges"]

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


@dataclass(frozen=True)
class Challenge:
    """One challenge: its scheme (lower-cased) and its auth-params (names lower-cased)."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def scopes(self) -> list[str] | None:
        """The `scope` param split on spaces; None when absent."""
        scope = self.params.get("scope")
        return scope.split() if scope is not None else None


def parse_challenges(header: str) -> list[Challenge]:
    """Every challenge in a `WWW-Authenticate` value; malformed tails are dropped, never
    raised (a server's typo must not hide the challenges before it)."""
    challenges: list[Challenge] = []
    pos, end = 0, len(header)
    while pos < end:
        pos = _skip(header, pos, " \t,")
        scheme = _TOKEN.match(header, pos)
        if scheme is None:
            break
        pos = scheme.end()
        params: dict[str, str] = {}
        pos = _skip(header, pos, " \t")
        token68 = _TOKEN68.match(header, pos)
        if token68 is not None and _after(header, token68.end()) in ("", ","):
            pos = token68.end()  # `Basic dXNlcg==`: a token68, no params
        else:
            pos = _params(header, pos, params)
        challenges.append(Challenge(scheme.group().lower(), params))
    return challenges


def _params(header: str, pos: int, params: dict[str, str]) -> int:
    """Read `name=value` pairs separated by commas until the next scheme; returns where."""
    while True:
        start = _skip(header, pos, " \t,")
        name = _TOKEN.match(header, start)
        if name is None:
            return start
        after = _skip(header, name.end(), " \t")
        if after >= len(header) or header[after] != "=":
            return start  # a bare token: the next challenge's scheme
        value, pos = _value(header, _skip(header, after + 1, " \t"))
        params[name.group().lower()] = value


def _value(header: str, pos: int) -> tuple[str, int]:
    if pos < len(header) and header[pos] == '"':
        chars: list[str] = []
        pos += 1
        while pos < len(header) and header[pos] != '"':
            if header[pos] == "\\" and pos + 1 < len(header):
                pos += 1
            chars.append(header[pos])
            pos += 1
        return "".join(chars), pos + 1
    token = _TOKEN68.match(header, pos) or _TOKEN.match(header, pos)
    return (token.group(), token.end()) if token is not None else ("", pos)


def _skip(header: str, pos: int, chars: str) -> int:
    while pos < len(header) and header[pos] in chars:
        pos += 1
    return pos


def _after(header: str, pos: int) -> str:
    pos = _skip(header, pos, " \t")
    return header[pos] if pos < len(header) else ""
