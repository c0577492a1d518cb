"""Tests for mcpkit.server.uri_template: RFC 6570 expansion, matching, path safety, routing.

Layer: tests (pure; no I/O). The expansion table is the examples section of RFC 6570 (3.2.x)
with its variable values; the traversal table is the security contract of the module
docstring; the properties check that match inverts expand and that no matched value can
leave its root under either POSIX or Windows path rules.
"""

from __future__ import annotations

import ntpath
import posixpath
import re
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpkit.server.uri_template import TemplateRouter, UriTemplate, Value, is_template

# RFC 6570 section 3.2.1: the variables every example of section 3.2 expands.
RFC_VARIABLES: dict[str, Value] = {
    "count": ["one", "two", "three"],
    "dom": ["example", "com"],
    "dub": "me/too",
    "hello": "Hello World!",
    "half": "50%",
    "var": "value",
    "who": "fred",
    "base": "http://example.com/home/",
    "path": "/foo/bar",
    "list": ["red", "green", "blue"],
    "keys": {"semi": ";", "dot": ".", "comma": ","},
    "v": "6",
    "x": "1024",
    "y": "768",
    "empty": "",
    "empty_keys": {},
    "undef": None,
}

RFC_EXAMPLES: list[tuple[str, str]] = [
    # 3.2.2 simple string expansion
    ("{var}", "value"),
    ("{hello}", "Hello%20World%21"),
    ("{half}", "50%25"),
    ("O{empty}X", "OX"),
    ("O{undef}X", "OX"),
    ("{x,y}", "1024,768"),
    ("{x,hello,y}", "1024,Hello%20World%21,768"),
    ("?{x,empty}", "?1024,"),
    ("?{x,undef}", "?1024"),
    ("?{undef,y}", "?768"),
    ("{var:3}", "val"),
    ("{var:30}", "value"),
    ("{list}", "red,green,blue"),
    ("{list*}", "red,green,blue"),
    ("{keys}", "semi,%3B,dot,.,comma,%2C"),
    ("{keys*}", "semi=%3B,dot=.,comma=%2C"),
    # 3.2.3 reserved expansion
    ("{+var}", "value"),
    ("{+hello}", "Hello%20World!"),
    ("{+half}", "50%25"),
    ("{base}index", "http%3A%2F%2Fexample.com%2Fhome%2Findex"),
    ("{+base}index", "http://example.com/home/index"),
    ("O{+empty}X", "OX"),
    ("O{+undef}X", "OX"),
    ("{+path}/here", "/foo/bar/here"),
    ("here?ref={+path}", "here?ref=/foo/bar"),
    ("up{+path}{var}/here", "up/foo/barvalue/here"),
    ("{+x,hello,y}", "1024,Hello%20World!,768"),
    ("{+path,x}/here", "/foo/bar,1024/here"),
    ("{+path:6}/here", "/foo/b/here"),
    ("{+list}", "red,green,blue"),
    ("{+list*}", "red,green,blue"),
    ("{+keys}", "semi,;,dot,.,comma,,"),
    ("{+keys*}", "semi=;,dot=.,comma=,"),
    # 3.2.4 fragment expansion
    ("{#var}", "#value"),
    ("{#hello}", "#Hello%20World!"),
    ("{#half}", "#50%25"),
    ("foo{#empty}", "foo#"),
    ("foo{#undef}", "foo"),
    ("{#x,hello,y}", "#1024,Hello%20World!,768"),
    ("{#path,x}/here", "#/foo/bar,1024/here"),
    ("{#path:6}/here", "#/foo/b/here"),
    ("{#list}", "#red,green,blue"),
    ("{#list*}", "#red,green,blue"),
    ("{#keys}", "#semi,;,dot,.,comma,,"),
    ("{#keys*}", "#semi=;,dot=.,comma=,"),
    # 3.2.5 label expansion with dot-prefix
    ("{.who}", ".fred"),
    ("{.who,who}", ".fred.fred"),
    ("{.half,who}", ".50%25.fred"),
    ("www{.dom*}", "www.example.com"),
    ("X{.var}", "X.value"),
    ("X{.empty}", "X."),
    ("X{.undef}", "X"),
    ("X{.var:3}", "X.val"),
    ("X{.list}", "X.red,green,blue"),
    ("X{.list*}", "X.red.green.blue"),
    ("X{.keys}", "X.semi,%3B,dot,.,comma,%2C"),
    ("X{.keys*}", "X.semi=%3B.dot=..comma=%2C"),
    ("X{.empty_keys}", "X"),
    ("X{.empty_keys*}", "X"),
    # 3.2.6 path segment expansion
    ("{/who}", "/fred"),
    ("{/who,who}", "/fred/fred"),
    ("{/half,who}", "/50%25/fred"),
    ("{/who,dub}", "/fred/me%2Ftoo"),
    ("{/var}", "/value"),
    ("{/var,empty}", "/value/"),
    ("{/var,undef}", "/value"),
    ("{/var,x}/here", "/value/1024/here"),
    ("{/var:1,var}", "/v/value"),
    ("{/list}", "/red,green,blue"),
    ("{/list*}", "/red/green/blue"),
    ("{/list*,path:4}", "/red/green/blue/%2Ffoo"),
    ("{/keys}", "/semi,%3B,dot,.,comma,%2C"),
    ("{/keys*}", "/semi=%3B/dot=./comma=%2C"),
    # 3.2.7 path-style parameter expansion
    ("{;who}", ";who=fred"),
    ("{;half}", ";half=50%25"),
    ("{;empty}", ";empty"),
    ("{;v,empty,who}", ";v=6;empty;who=fred"),
    ("{;v,bar,who}", ";v=6;who=fred"),
    ("{;x,y}", ";x=1024;y=768"),
    ("{;x,y,empty}", ";x=1024;y=768;empty"),
    ("{;x,y,undef}", ";x=1024;y=768"),
    ("{;hello:5}", ";hello=Hello"),
    ("{;list}", ";list=red,green,blue"),
    ("{;list*}", ";list=red;list=green;list=blue"),
    ("{;keys}", ";keys=semi,%3B,dot,.,comma,%2C"),
    ("{;keys*}", ";semi=%3B;dot=.;comma=%2C"),
    # 3.2.8 form-style query expansion
    ("{?who}", "?who=fred"),
    ("{?half}", "?half=50%25"),
    ("{?x,y}", "?x=1024&y=768"),
    ("{?x,y,empty}", "?x=1024&y=768&empty="),
    ("{?x,y,undef}", "?x=1024&y=768"),
    ("{?var:3}", "?var=val"),
    ("{?list}", "?list=red,green,blue"),
    ("{?list*}", "?list=red&list=green&list=blue"),
    ("{?keys}", "?keys=semi,%3B,dot,.,comma,%2C"),
    ("{?keys*}", "?semi=%3B&dot=.&comma=%2C"),
    # 3.2.9 form-style query continuation
    ("{&who}", "&who=fred"),
    ("{&half}", "&half=50%25"),
    ("?fixed=yes{&x}", "?fixed=yes&x=1024"),
    ("{&x,y,empty}", "&x=1024&y=768&empty="),
    ("{&var:3}", "&var=val"),
    ("{&list}", "&list=red,green,blue"),
    ("{&list*}", "&list=red&list=green&list=blue"),
    ("{&keys}", "&keys=semi,%3B,dot,.,comma,%2C"),
    ("{&keys*}", "&semi=%3B&dot=.&comma=%2C"),
]


@pytest.mark.parametrize(("template", "expected"), RFC_EXAMPLES)
def test_expansion_follows_rfc_6570_examples(template: str, expected: str) -> None:
    assert UriTemplate(template).expand(RFC_VARIABLES) == expected


@pytest.mark.parametrize(
    ("template", "variables", "expected"),
    [
        ("users://{id}/profile", {"id": 42}, "users://42/profile"),
        ("users://{id}/profile", {}, "users:///profile"),
        ("x://{a}", {"a": "中 é"}, "x://%E4%B8%AD%20%C3%A9"),
        ("x://{+a}", {"a": "%41%zz"}, "x://%41%25zz"),  # `+` keeps only real triplets
        ("a b/{x}", {"x": "1"}, "a%20b/1"),  # literals not allowed in a URI are encoded
        ("x://{a*}", {"a": "dir/file"}, "x://dir%2Ffile"),
    ],
)
def test_expansion_details(template: str, variables: dict[str, Value], expected: str) -> None:
    assert UriTemplate(template).expand(variables) == expected


def test_expansion_rejects_prefix_on_composites_and_unknown_types() -> None:
    with pytest.raises(ValueError, match="prefix"):
        UriTemplate("{list:3}").expand({"list": ["a", "b"]})
    with pytest.raises(TypeError, match="expected text"):
        UriTemplate("{a}").expand({"a": b"bytes"})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("x://{id", "unbalanced '{'"),
        ("x://id}", "unbalanced '}'"),
        ("x://{a{b}}", "unbalanced"),
        ("x://{}", "empty expression"),
        ("x://{=a}", "unsupported operator '='"),
        ("x://{!a}", "unsupported operator '!'"),
        ("x://{|a}", "unsupported operator"),
        ("x://{a-b}", "bad variable 'a-b'"),
        ("x://{a,}", "bad variable ''"),
        ("x://{+}", "bad variable ''"),
        ("x://{a:0}", "bad variable"),
        ("x://{a:10000}", "bad variable"),
        ("x://{a*:3}", "bad variable"),
        ("x://{.a.}", "bad variable"),
        ("x://{a b}", "bad variable"),
    ],
)
def test_malformed_templates_are_rejected(template: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        UriTemplate(template)


def test_identity_and_helpers() -> None:
    template = UriTemplate("repo://{owner}/{repo}/blob/{+path}{?ref,owner}")
    assert template.variables == ("owner", "repo", "path", "ref")
    assert str(template) == "repo://{owner}/{repo}/blob/{+path}{?ref,owner}"
    assert template == UriTemplate(str(template))
    assert hash(template) == hash(UriTemplate(str(template)))
    assert template != UriTemplate("repo://{owner}")
    assert template != str(template)
    assert is_template("file:///{path*}")
    assert not is_template("file:///etc/hosts")
    assert not is_template("file:///{")


MATCHES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("users://{id}/profile", "users://42/profile", {"id": "42"}),
    ("users://{id}/profile", "users://a%20b/profile", {"id": "a b"}),
    ("users://{id}/profile", "users://%E4%B8%AD/profile", {"id": "中"}),
    ("users://{id}/profile", "users:///profile", None),
    ("users://{id}/profile", "users://a/b/profile", None),
    ("users://{id}/profile", "users://42/profile/", None),
    ("users://{id}/profile", "users://%FF/profile", None),  # not UTF-8
    ("users://{id}/profile", "users://%zz/profile", None),  # malformed escape
    ("users://{id}/profile", "users://%4/profile", None),
    ("users://{id}/profile", "users://42/profile?x=1", None),
    ("file:///{path*}", "file:///a/b/c.txt", {"path": "a/b/c.txt"}),
    ("file:///{path*}", "file:///", {"path": ""}),
    ("file:///{path*}", "file:///a%2Fb", {"path": "a/b"}),  # multi-segment: %2F is a `/`
    ("file:///srv/{+path}", "file:///srv/a..b/.hidden", {"path": "a..b/.hidden"}),
    (
        "repo://{owner}/{repo}/blob/{+path}",
        "repo://me/kit/blob/src/mcpkit/a.py",
        {"owner": "me", "repo": "kit", "path": "src/mcpkit/a.py"},
    ),
    ("x://{a,b}", "x://1,2", {"a": "1", "b": "2"}),
    ("x://{a,b}", "x://1%2C5,2", {"a": "1,5", "b": "2"}),
    ("x://{a,b}", "x://1", None),
    ("file:///{name}{.ext}", "file:///report.pdf", {"name": "report", "ext": "pdf"}),
    ("x://{a}{/b,c}", "x://1/2/3", {"a": "1", "b": "2", "c": "3"}),
    ("items{/ids*}", "items/1/2/3", {"ids": ["1", "2", "3"]}),
    ("items{/ids*}", "items", {}),
    ("doc://{name}{#section}", "doc://guide#intro", {"name": "guide", "section": "intro"}),
    ("doc://{name}{#section}", "doc://guide", {"name": "guide"}),
    ("x://{a}/{a}", "x://1/1", {"a": "1"}),
    ("x://{a}/{a}", "x://1/2", None),
    ("search{?q,lang}", "search?lang=en&q=hi%20there", {"q": "hi there", "lang": "en"}),
    ("search{?q,lang}", "search", {}),
    ("search{?q,lang}", "search?", {}),
    ("search{?q,lang}", "search?q", {"q": ""}),
    ("search{?q,lang}", "search?q=a+b&utm=x&&", {"q": "a+b"}),  # `+` is not a space
    ("search{?q,lang}", "search?q=a&q=b", None),  # one value expected
    ("search{?q,lang}", "search?q=1#frag", None),
    ("search{?tag*}", "search?tag=a&tag=b", {"tag": ["a", "b"]}),
    ("search{?q}{&page}", "search?page=2&q=x", {"q": "x", "page": "2"}),
    ("items?fixed=yes{&page}", "items?fixed=yes&page=2", {"page": "2"}),
    ("items?fixed=yes{&page}", "items?fixed=no&page=2", None),
    ("x://{id}{?id}", "x://1?id=1", {"id": "1"}),
    ("x://{a}-{b}", "x://x-y-z", {"a": "x", "b": "y-z"}),  # a variable stops at what follows
    ("file:///{name}{.ext}", "file:///a.tar.gz", None),
    ("x://{+a}{#b}", "x://a/b#c/d", {"a": "a/b", "b": "c/d"}),
    ("x://{a}{?q}", "x://1?q=2", {"a": "1", "q": "2"}),
    ("x://{a}?x=1{&q}", "x://1?x=1&q=2", {"a": "1", "q": "2"}),
    ("x://{id}{?id}", "x://1?id=2", None),
]


@pytest.mark.parametrize(("template", "uri", "expected"), MATCHES)
def test_matching(template: str, uri: str, expected: dict[str, Any] | None) -> None:
    assert UriTemplate(template).match(uri) == expected


@pytest.mark.parametrize(
    "template",
    [
        "x://{a:3}",
        "x://{;a}",
        "x://{.a*}",
        "x://{+a,b}",
        "x://{a*,b}",
        "x://{?q}/{id}",
        "x://{?q:2}",
        "x://{a}{b}",  # nothing between them: no telling where one ends
        "x://{a}{+b}",
        "x://{+a}/{+b}",  # two multi-segment variables
        "x://{a*}{/b*}",
        "x://{#a}{#b}",
    ],
)
def test_expansion_only_templates_refuse_to_match(template: str) -> None:
    parsed = UriTemplate(template)
    assert not parsed.matchable
    with pytest.raises(ValueError, match="cannot be matched"):
        parsed.match("x://anything")
    with pytest.raises(ValueError, match="cannot be matched"):
        TemplateRouter[None]().add(parsed, None)


# The security contract: each of these URIs must not match its template.
TRAVERSALS: list[tuple[str, str]] = [
    ("file:///srv/{+path}", "file:///srv/.."),
    ("file:///srv/{+path}", "file:///srv/../etc/passwd"),
    ("file:///srv/{+path}", "file:///srv/%2e%2e/etc/passwd"),
    ("file:///srv/{+path}", "file:///srv/%2E%2E%2Fetc%2Fpasswd"),
    ("file:///srv/{+path}", "file:///srv/..%2fetc/passwd"),
    ("file:///srv/{+path}", "file:///srv/%252e%252e/etc/passwd"),  # double encoding
    ("file:///srv/{+path}", "file:///srv/%252e%252e%252fetc"),
    ("file:///srv/{+path}", "file:///srv/a/../../etc/passwd"),
    ("file:///srv/{+path}", "file:///srv/a/%2e%2e/%2e%2e/etc"),
    ("file:///srv/{+path}", "file:///srv//etc/passwd"),  # absolute
    ("file:///srv/{+path}", "file:///srv/%2Fetc/passwd"),
    ("file:///srv/{+path}", "file:///srv/%5Cetc%5Cpasswd"),
    ("file:///srv/{+path}", "file:///srv/a//b"),
    ("file:///srv/{+path}", "file:///srv/a/"),
    ("file:///srv/{+path}", "file:///srv/..%5c..%5cwindows"),
    ("file:///srv/{+path}", "file:///srv/a\\..\\..\\windows"),
    ("file:///srv/{+path}", "file:///srv/C:/Windows/win.ini"),
    ("file:///srv/{+path}", "file:///srv/c%3A%5Cwindows"),
    ("file:///srv/{+path}", "file:///srv/a.txt%00.png"),
    ("file:///srv/{+path}", "file:///srv/a%0A"),
    ("file:///srv/{+path}", "file:///srv/."),
    ("file:///srv/{+path}", "file:///srv/./a"),
    ("file:///srv/{+path}", "file:///srv/.../a"),
    ("file:///srv/{+path}", "file:///srv/..%20/a"),
    ("file:///srv/{+path}", "file:///srv/%2e%2e%2e%20"),
    ("file:///{path*}", "file:///../etc/passwd"),
    ("file:///{path*}", "file:////etc/passwd"),
    ("file:///{path*}", "file:///%2Fetc/passwd"),
    ("file:///{path*}", "file:///a/%2e%2E/%2E%2e/etc"),
    ("file:///{path*}", "file:///%2e%2e%2f%2e%2e%2fetc"),
    ("users://{id}/profile", "users://../profile"),
    ("users://{id}/profile", "users://%2e%2e/profile"),
    ("users://{id}/profile", "users://a%2Fb/profile"),
    ("users://{id}/profile", "users://a%2fb/profile"),
    ("users://{id}/profile", "users://a%5Cb/profile"),
    ("users://{id}/profile", "users://%00/profile"),
    ("users://{id}/profile", "users://C:/profile"),
    ("users://{id}/profile", "users://%252e%252e/profile"),
    ("items{/ids*}", "items/a/../b"),
    ("items{/ids*}", "items/a//b"),
    ("items{/ids*}", "items/%2e%2e"),
    ("items{/ids*}", "items/a%2Fb"),
    ("doc://{name}{#section}", "doc://x#../y"),
    ("search{?q}", "search?q=../x"),
    ("search{?q}", "search?q=a%5C..%5Cb"),
    ("search{?q}", "search?q=%00"),
    ("search{?q}", "search?q=%252e%252e"),
]


@pytest.mark.parametrize(("template", "uri"), TRAVERSALS)
def test_traversal_attempts_do_not_match(template: str, uri: str) -> None:
    assert UriTemplate(template).match(uri) is None


# Fragments an attacker would combine; the property below checks the result stays inside.
DANGEROUS = ["..", ".", "/", "\\", "%2e", "%2E", "%2f", "%2F", "%5c", "%25", "%00", "C:", "a", " "]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(DANGEROUS), max_size=12).map("".join))
def test_no_match_escapes_the_root(rest: str) -> None:
    variables = UriTemplate("file:///srv/{+path}").match("file:///srv/" + rest)
    if variables is None:
        return
    path = variables["path"]
    assert isinstance(path, str)
    posix = posixpath.normpath(posixpath.join("/srv", path))
    assert posix == "/srv" or posix.startswith("/srv/")
    windows = ntpath.normpath(ntpath.join("C:\\srv", path))
    assert windows == "C:\\srv" or windows.startswith("C:\\srv\\")
    assert "\x00" not in path
    assert re.search("%[0-9A-Fa-f]{2}", path) is None  # nothing left to decode a second time


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_matching_never_raises(uri: str) -> None:
    for template in ("file:///{path*}", "x://{a,b}{.c}{/d*}{?q,r*}", "d://{n}{#f}"):
        result = UriTemplate(template).match(uri)
        assert result is None or isinstance(result, dict)
        UriTemplate(template).match("file:///" + uri)


@pytest.mark.parametrize(
    "template", ["x://{a}-{b}-{c}.json", "x://{+a}/{b}.json", "x://{a,b}{.c}{/d*}{?q}", "x://{a*}"]
)
def test_matching_time_is_linear(template: str) -> None:
    # Adversarial URIs that make a backtracking matcher take cubic time take milliseconds.
    parsed = UriTemplate(template)
    for unit in ("a-", "a/", "a.", "a,", "/", "a"):
        started = time.perf_counter()
        parsed.match("x://" + unit * 50_000 + "?")
        assert time.perf_counter() - started < 1.0


# --- match inverts expand --------------------------------------------------------------------

_PLAIN = st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"], exclude_characters="%/\\?#")


def _no_dot_segment(text: str) -> bool:
    return not any("." in s and not s.strip(". ") for s in re.split(r"[/\\]", text))


def _no_drive(text: str) -> bool:
    return re.match("[A-Za-z]:", text) is None


SEGMENT = st.text(_PLAIN, min_size=1).filter(_no_dot_segment).filter(_no_drive)
LABEL = SEGMENT.filter(lambda text: "." not in text)
PATH = st.lists(SEGMENT, max_size=4).map("/".join)
QUERY_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"])).filter(
    lambda text: _no_dot_segment(text) and "%" not in text
)

ROUND_TRIPS: list[tuple[str, st.SearchStrategy[dict[str, Any]]]] = [
    ("users://{id}/profile", st.fixed_dictionaries({"id": SEGMENT})),
    (
        "repo://{owner}/{repo}/blob/{+path}",
        st.fixed_dictionaries({"owner": SEGMENT, "repo": SEGMENT, "path": PATH}),
    ),
    ("file:///{path*}", st.fixed_dictionaries({"path": PATH})),
    ("x://{a,b}{.ext}", st.fixed_dictionaries({"a": SEGMENT, "b": LABEL, "ext": LABEL})),
    (
        "x://{a}-{b}",
        st.fixed_dictionaries({"a": SEGMENT.filter(lambda t: "-" not in t), "b": SEGMENT}),
    ),
    (
        "items{/ids*}{?sort,page}",
        st.fixed_dictionaries(
            {"ids": st.lists(SEGMENT, min_size=1, max_size=4)},
            optional={"sort": QUERY_TEXT, "page": QUERY_TEXT},
        ),
    ),
    (
        "search{?q,tags*}",
        st.fixed_dictionaries(
            {}, optional={"q": QUERY_TEXT, "tags": st.lists(QUERY_TEXT, min_size=1, max_size=3)}
        ),
    ),
    (
        "doc://{name}{#section}",
        st.fixed_dictionaries({"name": SEGMENT}, optional={"section": PATH}),
    ),
]


@settings(max_examples=150, deadline=None)
@given(st.data())
@pytest.mark.parametrize(("template", "values"), ROUND_TRIPS)
def test_match_inverts_expand(
    template: str, values: st.SearchStrategy[dict[str, Any]], data: st.DataObject
) -> None:
    parsed = UriTemplate(template)
    variables = data.draw(values)
    assert parsed.match(parsed.expand(variables)) == variables


# --- routing ---------------------------------------------------------------------------------

ROUTES = [
    ("users://{id}/profile", "by-id"),
    ("users://me/profile", "me"),
    ("users://{rest*}", "rest"),
    ("users://{id}/{+rest}", "id-rest"),
    ("users://{id}/profile{?tab}", "by-id-tab"),
]


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("users://me/profile", ("me", {})),
        ("users://42/profile", ("by-id", {"id": "42"})),
        ("users://42/profile?tab=posts", ("by-id-tab", {"id": "42", "tab": "posts"})),
        ("users://42/posts/1", ("id-rest", {"id": "42", "rest": "posts/1"})),
        ("users://42", ("rest", {"rest": "42"})),
        ("users://../profile", None),
        ("other://x", None),
    ],
)
def test_router_picks_the_most_specific(uri: str, expected: tuple[str, Any] | None) -> None:
    for order in (ROUTES, ROUTES[::-1], ROUTES[2:] + ROUTES[:2]):  # the order added is no factor
        found = TemplateRouter(order).match(uri)
        assert (tuple(found) if found else None) == expected


def test_router_ties_break_on_fewer_spans_then_fewer_variables_then_first_added() -> None:
    spans = TemplateRouter([("x://{a*}/y", "span"), ("x://{a}/y", "segment")])
    assert spans.match("x://1/y") == ("segment", {"a": "1"})
    fewer = TemplateRouter([("x://{a}{.b}", "two"), ("x://{c}", "one")])
    assert fewer.match("x://1.2") == ("one", {"c": "1.2"})
    literal = TemplateRouter([("x://{c}", "one"), ("x://{a},{b}", "two")])  # `,` is literal
    assert literal.match("x://1,2") == ("two", {"a": "1", "b": "2"})
    first = TemplateRouter([("x://{a}", "first"), ("x://{b}", "second")])
    assert first.match("x://1") == ("first", {"a": "1"})
    assert [value for _, value in first] == ["first", "second"]
    assert len(first) == 2


def test_router_refuses_duplicates() -> None:
    router = TemplateRouter([("x://{a}", 1)])
    with pytest.raises(ValueError, match="already routed"):
        router.add(UriTemplate("x://{a}"), 2)
    assert router.add("x://{b}/c", 3) == UriTemplate("x://{b}/c")
