"""Schemas from type hints: `mcpkit.server.schema.FunctionSignature`.

Layer: tests (server). Every schema built here is checked twice: it must be a valid JSON
Schema 2020-12 document, and sample arguments must pass or fail it as the type hints say.
A few schemas are compared exactly, to pin the shape providers see (no titles, no needless
`$ref`, `X | None = None` as plain `X`). Tool functions live at module level so that their
string annotations resolve.
"""

from __future__ import annotations

import datetime
import enum
import inspect
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import msgspec
import pytest
from jsonschema import Draft7Validator, Draft202012Validator
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from mcpkit.protocol.errors import ToolError
from mcpkit.protocol.types import CallToolResult, ImageContent, TextContent, Tool
from mcpkit.server.content import Audio, Image
from mcpkit.server.schema import FunctionSignature, InvalidArguments, parse_docstring

SPEC = Path(__file__).parent / "spec"


# --- types the tools use ------------------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Address(BaseModel):
    """Where someone lives."""

    street: str
    zip: Annotated[str, Field(pattern=r"^\d{5}$")]


class User(BaseModel):
    name: str
    age: Annotated[int, Field(ge=0)] = 0
    address: Address | None = None


class Node(BaseModel):
    value: int
    children: list[Node] = []


@dataclass
class Point:
    x: float
    y: float


class Options(TypedDict):
    deep: bool
    depth: int


class Context:
    """Stands in for the framework's context class."""


class RequestContext(Context):
    pass


# --- helpers ------------------------------------------------------------------------------------


def with_param(hint: Any, default: Any = inspect.Parameter.empty) -> Callable[..., Any]:
    """A one-parameter function `fn(x: hint = default)`."""

    def fn(x: Any) -> None:
        del x

    fn.__annotations__ = {"x": hint}
    if default is not inspect.Parameter.empty:
        fn.__defaults__ = (default,)
    return fn


def returning(hint: Any) -> Callable[..., Any]:
    """A function whose return annotation is `hint` (`inspect.Parameter.empty`: none)."""

    def fn() -> None:
        return None

    fn.__annotations__ = {} if hint is inspect.Parameter.empty else {"return": hint}
    return fn


def check(schema: dict[str, Any], good: list[Any], bad: list[Any]) -> None:
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    for sample in good:
        assert validator.is_valid(sample), (schema, sample)
    for sample in bad:
        assert not validator.is_valid(sample), (schema, sample)


def check_against_spec_tool(signature: FunctionSignature) -> None:
    """The schemas fit the spec's `Tool` definition (2025-06-18 has outputSchema)."""
    document = json.loads((SPEC / "2025-06-18" / "schema.json").read_text(encoding="utf-8"))
    tool = Tool(
        name=signature.name,
        input_schema=signature.input_schema,
        output_schema=msgspec.UNSET if signature.output_schema is None else signature.output_schema,
    )
    schema = {"$ref": "#/definitions/Tool", "definitions": document["definitions"]}
    Draft7Validator(schema).validate(msgspec.to_builtins(tool))


def has_ref(schema: Any) -> bool:
    return '"$ref"' in json.dumps(schema)


# --- input schemas: each kind of annotation -----------------------------------------------------

SAMPLE_DATE = "2024-05-01T12:30:00Z"
SAMPLE_UUID = "12345678-1234-5678-1234-567812345678"

KINDS = [
    pytest.param(int, [1, -3], ["1", 1.5, None, True], id="int"),
    pytest.param(float, [1, 2.5], ["x", None], id="float"),
    pytest.param(str, ["", "x"], [1, None], id="str"),
    pytest.param(bool, [True, False], [0, "true"], id="bool"),
    pytest.param(Literal["a", "b"], ["a", "b"], ["c", 1], id="Literal"),
    pytest.param(Color, ["red", "blue"], ["green", "RED"], id="Enum"),
    pytest.param(list[int], [[], [1, 2]], [[1, "x"], {}], id="list"),
    pytest.param(dict[str, int], [{}, {"a": 1}], [{"a": "x"}, []], id="dict"),
    pytest.param(tuple[int, str], [[1, "a"]], [[1], [1, "a", 2], ["a", 1]], id="tuple"),
    pytest.param(tuple[int, ...], [[], [1, 2, 3]], [["a"]], id="tuple-variadic"),
    pytest.param(datetime.datetime, [SAMPLE_DATE], [5, None], id="datetime"),
    pytest.param(datetime.date, ["2024-05-01"], [5], id="date"),
    pytest.param(uuid.UUID, [SAMPLE_UUID], [5], id="UUID"),
    pytest.param(
        User,
        [{"name": "a"}, {"name": "a", "age": 3, "address": {"street": "s", "zip": "12345"}}],
        [{}, {"name": "a", "age": -1}, {"name": "a", "address": {"street": "s", "zip": "1"}}],
        id="pydantic-model",
    ),
    pytest.param(Point, [{"x": 1, "y": 2.5}], [{"x": 1}, {"x": "a", "y": 1}], id="dataclass"),
    pytest.param(
        Options,
        [{"deep": True, "depth": 2}],
        [{"deep": True}, {"deep": 1, "depth": 2}],
        id="TypedDict",
    ),
    pytest.param(
        Annotated[int, Field(ge=1, le=10)], [1, 10], [0, 11], id="Annotated-Field-constraints"
    ),
    pytest.param(
        Node, [{"value": 1, "children": [{"value": 2}]}], [{"children": []}], id="recursive"
    ),
    pytest.param(int | str, [1, "a"], [None, []], id="union"),
    pytest.param(Any, [1, "a", None, {}], [], id="Any"),
]


@pytest.mark.parametrize(("hint", "good", "bad"), KINDS)
def test_each_kind_of_annotation_gives_a_valid_schema(
    hint: Any, good: list[Any], bad: list[Any]
) -> None:
    signature = FunctionSignature.from_function(with_param(hint))
    schema = signature.input_schema
    assert schema["type"] == "object"
    assert schema["required"] == ["x"]
    check(schema, [{"x": sample} for sample in good], [{"x": sample} for sample in bad] + [{}])
    check_against_spec_tool(signature)
    for sample in good:
        signature.validate({"x": sample})  # what the schema accepts, validate() accepts
    with pytest.raises(InvalidArguments):
        signature.validate({})


@pytest.mark.parametrize(("hint", "good", "bad"), KINDS)
def test_no_titles_and_no_ref_unless_recursive(hint: Any, good: list[Any], bad: list[Any]) -> None:
    schema = FunctionSignature.from_function(with_param(hint)).input_schema
    assert '"title"' not in json.dumps(schema)
    assert has_ref(schema) == (hint is Node)
    assert ("$defs" in schema) == (hint is Node)


def add(a: int, b: int = 2) -> int:
    """Add two numbers."""
    return a + b


def test_exact_schema_of_a_simple_function() -> None:
    signature = FunctionSignature.from_function(add)
    assert signature.name == "add"
    assert signature.description == "Add two numbers."
    assert signature.input_schema == {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"default": 2, "type": "integer"}},
        "required": ["a"],
    }
    assert signature.output_schema == {
        "type": "object",
        "properties": {"result": {"type": "integer"}},
        "required": ["result"],
    }
    assert signature.wraps_result
    assert signature.context_param is None


def no_parameters() -> str:
    return "x"


def test_a_function_without_parameters_takes_an_empty_object() -> None:
    signature = FunctionSignature.from_function(no_parameters)
    assert signature.input_schema == {"type": "object", "properties": {}}
    assert signature.validate({}) == {}
    assert signature.description is None


def test_nested_models_are_inlined() -> None:
    schema = FunctionSignature.from_function(with_param(User)).input_schema
    assert schema["properties"]["x"] == {
        "properties": {
            "name": {"type": "string"},
            "age": {"default": 0, "minimum": 0, "type": "integer"},
            "address": {
                "anyOf": [
                    {
                        "description": "Where someone lives.",
                        "properties": {
                            "street": {"type": "string"},
                            "zip": {"pattern": r"^\d{5}$", "type": "string"},
                        },
                        "required": ["street", "zip"],
                        "type": "object",
                    },
                    {"type": "null"},
                ],
                "default": None,
            },
        },
        "required": ["name"],
        "type": "object",
    }


def test_recursive_models_keep_their_defs_at_the_root() -> None:
    schema = FunctionSignature.from_function(with_param(Node)).input_schema
    assert schema["properties"]["x"] == {"$ref": "#/$defs/Node"}
    assert schema["$defs"] == {
        "Node": {
            "properties": {
                "value": {"type": "integer"},
                "children": {"default": [], "items": {"$ref": "#/$defs/Node"}, "type": "array"},
            },
            "required": ["value"],
            "type": "object",
        }
    }


def optionals(
    a: int | None = None,
    b: Optional[User] = None,  # noqa: UP045 (the spelling under test)
    c: Annotated[int, Field(ge=1)] | None = None,
    d: int | None = 5,
    f: int | str | None = None,
    *,
    e: int | None,
) -> None:
    """Optional parameters.

    Args:
        a: an optional number.
    """


def test_optional_with_default_none_is_the_plain_type_and_not_required() -> None:
    signature = FunctionSignature.from_function(optionals)
    props = signature.input_schema["properties"]
    assert props["a"] == {"type": "integer", "description": "an optional number."}
    assert props["b"]["type"] == "object"
    assert props["c"] == {"minimum": 1, "type": "integer"}
    assert props["f"] == {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    # null is a real choice when the default is not None: anyOf stays
    assert props["d"] == {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": 5}
    assert signature.input_schema["required"] == ["e"]
    # an explicit null is still accepted, and means None
    assert signature.validate({"a": None, "e": 1})["a"] is None


# --- descriptions -------------------------------------------------------------------------------


def described(
    query: Annotated[str, Field(description="what to look for")],
    limit: int = 10,
    since: datetime.date | None = None,
    user: User | None = None,
) -> list[str]:
    """Search the archive.

    Matches are ranked by date.

    Args:
        query: ignored: the Field description wins.
        limit (int): how many results
            to return at most.
        user: whose archive.

    Returns:
        the matching titles.

    Raises:
        ToolError: the archive is offline.
    """
    return []


def test_descriptions_from_field_and_docstring() -> None:
    signature = FunctionSignature.from_function(described)
    props = signature.input_schema["properties"]
    assert signature.description == "Search the archive.\n\nMatches are ranked by date."
    assert props["query"]["description"] == "what to look for"
    assert props["limit"]["description"] == "how many results to return at most."
    assert "description" not in props["since"]
    # the parameter's description beats the model's own docstring
    assert props["user"]["description"] == "whose archive."


def test_parse_docstring_keeps_other_sections_and_text_after_sections() -> None:
    doc = """Summary line.

    Args:
        *names: the names.
        **extra (dict[str, int]): more,
            and more.

    Example:
        f(1)

    Trailing text.
    """
    description, args = parse_docstring(doc)
    assert description == "Summary line.\n\nExample:\n    f(1)\n\nTrailing text."
    assert args == {"names": "the names.", "extra": "more, and more."}
    assert parse_docstring(None) == (None, {})
    assert parse_docstring("   ") == (None, {})


# --- context and skipped parameters ---------------------------------------------------------------


def with_context(ctx: Context, a: int, request_id: str = "") -> None:
    pass


def with_wrapped_context(a: int, ctx: Annotated[RequestContext | None, "x"] = None) -> None:
    pass


def test_context_parameter_is_left_out() -> None:
    signature = FunctionSignature.from_function(with_context, context_type=Context)
    assert signature.context_param == "ctx"
    assert list(signature.input_schema["properties"]) == ["a", "request_id"]
    assert signature.validate({"a": 1}) == {"a": 1, "request_id": ""}


def test_context_found_through_annotated_optional_and_subclass() -> None:
    signature = FunctionSignature.from_function(with_wrapped_context, context_type=Context)
    assert signature.context_param == "ctx"
    assert list(signature.input_schema["properties"]) == ["a"]


def test_skipped_names_are_left_out() -> None:
    signature = FunctionSignature.from_function(
        with_context, context_type=Context, skip=("request_id",)
    )
    assert list(signature.input_schema["properties"]) == ["a"]
    assert signature.context_param == "ctx"


def test_without_context_type_the_parameter_is_an_ordinary_one() -> None:
    def takes_int(ctx: int) -> None:
        pass

    signature = FunctionSignature.from_function(takes_int, context_type=Context)
    assert signature.context_param is None
    assert list(signature.input_schema["properties"]) == ["ctx"]


def two_contexts(a: Context, b: Context) -> None:
    pass


def star_args(*values: int) -> None:
    pass


def star_kwargs(**values: int) -> None:
    pass


def positional_only(a: int, /) -> None:
    pass


class Opaque:
    pass


def opaque(thing: Opaque) -> None:
    pass


def unresolvable(thing: NotDefinedAnywhere) -> None:  # type: ignore[name-defined]  # noqa: F821
    pass


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (two_contexts, "two context parameters"),
        (star_args, "must be named"),
        (star_kwargs, "must be named"),
        (positional_only, "must be named"),
        (opaque, "cannot build a schema for the parameters of opaque()"),
        (unresolvable, "cannot resolve the type hints of unresolvable()"),
    ],
)
def test_functions_that_cannot_be_tools_are_refused(fn: Callable[..., Any], message: str) -> None:
    with pytest.raises(TypeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        FunctionSignature.from_function(fn, context_type=Context)


# --- validate() ----------------------------------------------------------------------------------


def everything(
    user: User,
    when: datetime.datetime,
    color: Color,
    where: Point,
    options: Options,
    ident: uuid.UUID,
    pair: tuple[int, str],
    json: int = 1,
    schema: str = "s",
) -> None:
    pass


EVERYTHING_ARGS = {
    "user": {"name": "ada", "address": {"street": "Main", "zip": "12345"}},
    "when": SAMPLE_DATE,
    "color": "blue",
    "where": {"x": 1, "y": 2},
    "options": {"deep": True, "depth": 3},
    "ident": SAMPLE_UUID,
    "pair": [1, "a"],
}


def test_validate_converts_json_into_python_objects() -> None:
    kwargs = FunctionSignature.from_function(everything).validate(EVERYTHING_ARGS)
    assert kwargs["user"] == User(name="ada", address=Address(street="Main", zip="12345"))
    assert kwargs["when"] == datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.UTC)
    assert kwargs["color"] is Color.BLUE
    assert kwargs["where"] == Point(1.0, 2.0)
    assert kwargs["options"] == {"deep": True, "depth": 3}
    assert kwargs["ident"] == uuid.UUID(SAMPLE_UUID)
    assert kwargs["pair"] == (1, "a")
    assert (kwargs["json"], kwargs["schema"]) == (1, "s")  # BaseModel's names are fine


def test_validate_is_lax_where_the_schema_is_strict() -> None:
    # models sometimes quote numbers; the schema still tells them the right type
    signature = FunctionSignature.from_function(add)
    assert signature.validate({"a": "4", "b": 1.0}) == {"a": 4, "b": 1}
    with pytest.raises(InvalidArguments, match="a: Input should be a valid integer"):
        signature.validate({"a": "four"})


def test_validate_ignores_unknown_arguments() -> None:
    signature = FunctionSignature.from_function(add)
    assert signature.validate({"a": 1, "host_added": True}) == {"a": 1, "b": 2}


def test_validate_gives_defaults_and_fresh_mutable_defaults() -> None:
    def tags(items: list[str] = []) -> None:  # noqa: B006 (the case under test)
        pass

    signature = FunctionSignature.from_function(tags)
    first = signature.validate({})["items"]
    first.append("x")
    assert signature.validate({})["items"] == []


SENTINEL = object()


def with_sentinel(value: Any = SENTINEL) -> None:
    pass


def test_a_default_json_cannot_hold_is_left_out_of_the_schema_quietly() -> None:
    signature = FunctionSignature.from_function(with_sentinel)
    assert signature.input_schema == {"type": "object", "properties": {"value": {}}}
    assert signature.validate({})["value"] is SENTINEL


def test_invalid_arguments_name_each_field_and_why() -> None:
    signature = FunctionSignature.from_function(everything)
    bad = {
        **EVERYTHING_ARGS,
        "user": {"name": 3, "address": {"street": "Main", "zip": "12"}},
        "when": "yesterday",
        "color": "green",
        "pair": [1],
        "colour": "red",
    }
    del bad["ident"]
    with pytest.raises(InvalidArguments) as caught:
        signature.validate(bad)
    error = caught.value
    assert isinstance(error, ToolError)
    assert str(error).splitlines() == [
        "Invalid arguments:",
        "- user.name: Input should be a valid string (got 3)",
        "- user.address.zip: String should match pattern '^\\d{5}$' (got \"12\")",
        '- when: Input should be a valid datetime or date, input is too short (got "yesterday")',
        "- color: Input should be 'red' or 'blue' (got \"green\")",
        "- ident: missing (required)",
        "- pair[1]: missing (required)",
        "Unknown arguments (ignored): colour",
    ]
    assert ("ident", "missing (required)") in error.problems
    assert error.ignored == ("colour",)


def test_invalid_arguments_shorten_long_inputs_and_handle_a_non_object() -> None:
    signature = FunctionSignature.from_function(add)
    with pytest.raises(InvalidArguments) as caught:
        signature.validate({"a": "x" * 500})
    (line,) = [text for text in str(caught.value).splitlines() if text.startswith("- a:")]
    assert line.endswith("xxx...)") and len(line) < 160
    with pytest.raises(InvalidArguments, match=r"- \(arguments\): Input should be a valid"):
        signature.validate([1, 2])  # type: ignore[arg-type]


# --- output schemas ------------------------------------------------------------------------------

EMPTY = inspect.Parameter.empty
WRAP = "wrapped"
OBJECT = "object"

OUTPUT_RULES = [
    pytest.param(EMPTY, None, id="no-annotation"),
    pytest.param(None, None, id="None"),
    pytest.param(Any, None, id="Any"),
    pytest.param(object, None, id="object"),
    pytest.param(str, None, id="str"),
    pytest.param(str | None, None, id="str-or-None"),
    pytest.param(bytes, None, id="bytes"),
    pytest.param(Image, None, id="Image"),
    pytest.param(Audio, None, id="Audio"),
    pytest.param(TextContent, None, id="TextContent"),
    pytest.param(list[TextContent | ImageContent], None, id="list-of-blocks"),
    pytest.param(list[str | Image], None, id="list-of-str-and-images"),
    pytest.param(CallToolResult, None, id="CallToolResult"),
    pytest.param(Opaque, None, id="not-describable"),
    pytest.param(User, OBJECT, id="pydantic-model"),
    pytest.param(Point, OBJECT, id="dataclass"),
    pytest.param(Options, OBJECT, id="TypedDict"),
    pytest.param(dict[str, int], OBJECT, id="dict"),
    pytest.param(Node, OBJECT, id="recursive-model"),
    pytest.param(int, WRAP, id="int"),
    pytest.param(list[str], WRAP, id="list-of-str"),
    pytest.param(list[User], WRAP, id="list-of-models"),
    pytest.param(Literal["yes", "no"], WRAP, id="Literal"),
    pytest.param(User | None, WRAP, id="optional-model"),
    pytest.param(datetime.datetime, WRAP, id="datetime"),
]


@pytest.mark.parametrize(("hint", "rule"), OUTPUT_RULES)
def test_output_schema_rules(hint: Any, rule: str | None) -> None:
    signature = FunctionSignature.from_function(returning(hint))
    schema = signature.output_schema
    if rule is None:
        assert schema is None
        assert not signature.wraps_result
        return
    assert schema is not None
    Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object"
    assert '"title"' not in json.dumps(schema)
    assert signature.wraps_result == (rule == WRAP)
    if rule == WRAP:
        assert schema["required"] == ["result"] and list(schema["properties"]) == ["result"]
    check_against_spec_tool(signature)


def test_exact_output_schema_of_a_model_and_a_wrapped_list() -> None:
    assert FunctionSignature.from_function(returning(Point)).output_schema == {
        "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
        "required": ["x", "y"],
        "type": "object",
    }
    assert FunctionSignature.from_function(returning(list[Color])).output_schema == {
        "type": "object",
        "properties": {
            "result": {"items": {"enum": ["red", "blue"], "type": "string"}, "type": "array"}
        },
        "required": ["result"],
    }


def test_a_recursive_output_root_is_an_object_with_defs() -> None:
    schema = FunctionSignature.from_function(returning(Node)).output_schema
    assert schema is not None
    assert schema["type"] == "object"
    assert schema["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    assert set(schema["$defs"]) == {"Node"}
    wrapped = FunctionSignature.from_function(returning(list[Node])).output_schema
    assert wrapped is not None
    assert wrapped["properties"]["result"]["items"] == {"$ref": "#/$defs/Node"}
    assert set(wrapped["$defs"]) == {"Node"}


@pytest.mark.parametrize(
    ("hint", "forced", "rule"),
    [
        (User, False, None),
        (int, False, None),
        (str, True, WRAP),
        (Any, True, WRAP),
        (User, True, OBJECT),
    ],
)
def test_structured_output_override(hint: Any, forced: bool, rule: str | None) -> None:
    signature = FunctionSignature.from_function(returning(hint), structured_output=forced)
    assert (signature.output_schema is None) == (rule is None)
    assert signature.wraps_result == (rule == WRAP)


@pytest.mark.parametrize("hint", [EMPTY, None, bytes, Image, CallToolResult, Opaque])
def test_forcing_structured_output_without_a_json_form_is_refused(hint: Any) -> None:
    with pytest.raises(TypeError, match=r"structured_output=True|output schema"):
        FunctionSignature.from_function(returning(hint), structured_output=True)


# --- serialize_output() --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hint", "value", "expected"),
    [
        (User, User(name="a"), {"name": "a", "age": 0, "address": None}),
        (User, {"name": "a"}, {"name": "a", "age": 0, "address": None}),
        (Point, Point(1, 2), {"x": 1.0, "y": 2.0}),
        (Options, {"deep": False, "depth": 0}, {"deep": False, "depth": 0}),
        (dict[str, uuid.UUID], {"k": uuid.UUID(SAMPLE_UUID)}, {"k": SAMPLE_UUID}),
        (int, 3, {"result": 3}),
        (list[Color], [Color.RED], {"result": ["red"]}),
        (datetime.date, datetime.date(2024, 5, 1), {"result": "2024-05-01"}),
        (User | None, None, {"result": None}),
        (str, "hi", {"result": "hi"}),
    ],
)
def test_serialize_output_fits_the_output_schema(hint: Any, value: Any, expected: Any) -> None:
    forced = True if hint is str else None
    signature = FunctionSignature.from_function(returning(hint), structured_output=forced)
    assert signature.output_schema is not None
    data = signature.serialize_output(value)
    assert data == expected
    Draft202012Validator(signature.output_schema).validate(data)


def test_serialize_output_refuses_a_value_of_the_wrong_type() -> None:
    signature = FunctionSignature.from_function(returning(User))
    with pytest.raises(TypeError, match="does not fit its return annotation"):
        signature.serialize_output(42)
    with pytest.raises(ValueError, match="no structured output"):
        FunctionSignature.from_function(returning(str)).serialize_output("x")
