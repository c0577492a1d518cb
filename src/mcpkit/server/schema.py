"""Schemas from type hints: a Python function seen as a tool's input and output schemas.

Layer: server. `FunctionSignature.from_function` reads a function once, at registration,
and builds all a call needs: the JSON Schemas (the input schema from a pydantic model of the
parameters), a validator that validates and converts arguments (the same parameters as a
TypedDict, built at the tool's first call), a `TypeAdapter` that serializes the result.
Nothing is rebuilt per call. It knows no transport or session (`tools.py` makes the calls,
`content.py` the result blocks), and `mcpkit.protocol` must never import it: it loads pydantic.

Input schema (JSON Schema 2020-12, `type: object`):

- one property per parameter; `required` lists the parameters without a default. The
  context parameter (annotated with `context_type`, also inside `Annotated`/`Optional`)
  and the names in `skip` are left out: the framework fills them in.
- `x: X | None = None` is shown as plain `X`, not required, without `default: null`:
  omitting it already means None, and a plain type is what every provider (Anthropic,
  OpenAI, Gemini's OpenAPI subset) reads best; `validate` still accepts an explicit null.
  Where null is a real choice (no default, or another one) `anyOf: [X, null]` stays.
- `$ref`s are inlined; `$defs` (at the root) survive only for recursive models.
- `title`s are dropped: derived from Python names, they cost tokens and say nothing new.
- a property's description comes from `Annotated[X, Field(description=...)]`, else from the
  docstring's Google-style `Args:` entry. The tool description is the docstring without its
  Args/Returns/Raises (and similar) sections.
- `validate` is lax (pydantic's lax mode: `"5"` for an `int` is converted; models sometimes
  quote numbers) while the schema stays strict and shows the right type.
- unknown arguments are ignored, not rejected: hosts and gateways add fields of their own,
  and a call carrying all the tool needs should not fail for them. When a call fails anyway,
  `InvalidArguments` names the ignored ones too (they are often typos).

Output schema, from the return annotation (first rule that matches wins):

1. `structured_output=False`, no annotation, `None`, `Any`/`object` → none.
2. content-like → none: `str`, `bytes`, `content.py`'s helpers (`Image`...), content blocks,
   `CallToolResult`, and unions or sequences involving them (content speaks for itself).
3. a type whose JSON Schema is `type: object` (pydantic model, dataclass, TypedDict,
   `dict[str, X]`) → that schema; `serialize_output` gives the object.
4. anything else (`int`, `list[...]`, `Literal`, `Model | None`...) → wrapped as
   `{"type": "object", "properties": {"result": <schema>}, "required": ["result"]}`,
   `wraps_result=True`; `serialize_output` gives `{"result": value}`.

`structured_output=True` turns rules 1-2 off: `str` and `Any` are wrapped; `None`, no
annotation, and binary or block types raise `TypeError` (no JSON form). In automatic mode a
return type pydantic cannot describe gives no output schema.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from types import NoneType, UnionType
from typing import Annotated, Any, Final, NotRequired, Union, cast, final, get_args, get_origin

import msgspec
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model
from pydantic.errors import PydanticUserError
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, JsonSchemaWarningKind
from pydantic_core import ErrorDetails, PydanticSerializationError, SchemaValidator
from typing_extensions import TypedDict  # (pydantic needs this one before Python 3.12)

from mcpkit.protocol.errors import ToolError
from mcpkit.server.content import CONTENT_TYPES

__all__ = ["FunctionSignature", "InvalidArguments", "parse_docstring"]

_ARGUMENTS_CONFIG: Final = ConfigDict(extra="ignore")
_REF_PREFIX: Final = "#/$defs/"
_REF: Final = re.compile(r'"\$ref": "#/\$defs/([^"]+)"')
_NULL: Final = {"type": "null"}


@final
class InvalidArguments(ToolError):
    """The arguments of a tool call do not fit its input schema.

    A `ToolError`, so the call ends in an `isError` result whose text tells the model what
    to fix: one line per bad field (`user.age: Input should be ... (got "x")`).

    Attributes:
        problems: `(field path, reason)` pairs, e.g. `("tags[2]", "missing (required)")`.
        ignored: argument names that the tool does not have (ignored, but worth a look).
    """

    def __init__(self, problems: Sequence[tuple[str, str]], *, ignored: Sequence[str] = ()):
        self.problems = tuple(problems)
        self.ignored = tuple(ignored)
        lines = ["Invalid arguments:", *(f"- {where}: {why}" for where, why in self.problems)]
        if self.ignored:
            lines.append(f"Unknown arguments (ignored): {', '.join(self.ignored)}")
        super().__init__("\n".join(lines))


def _problem(detail: ErrorDetails) -> tuple[str, str]:
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in detail["loc"])
    where = where.removeprefix(".") or "(arguments)"
    if detail["type"] == "missing":
        return where, "missing (required)"
    got = json.dumps(detail["input"], default=repr)
    return where, f"{detail['msg']} (got {got if len(got) <= 60 else got[:57] + '...'})"


@final
class FunctionSignature(msgspec.Struct, frozen=True, kw_only=True):
    """A function seen as a tool: its schemas, and how its arguments and result are converted.

    Build it with `from_function`; the module docstring states the schema rules.

    Attributes:
        name: the function's `__name__`.
        description: the docstring without its Args/Returns/Raises sections, or None.
        input_schema: JSON Schema (2020-12) of the arguments, an object schema.
        output_schema: JSON Schema of the structured result, or None when there is none.
        wraps_result: structured results are `{"result": value}` (not an object type).
        context_param: the name of the parameter that receives the framework's context.
    """

    name: str
    description: str | None
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    wraps_result: bool
    context_param: str | None
    _arguments: _ArgumentsValidator
    _output: TypeAdapter[Any] | None

    @classmethod
    def from_function(
        cls,
        fn: Callable[..., Any],
        *,
        context_type: type | None = None,
        skip: Collection[str] = (),
        structured_output: bool | None = None,
    ) -> FunctionSignature:
        """Read a function's signature and docstring and build its schemas (once).

        Args:
            fn: the function (sync or async); its hints may be strings (resolved here).
            context_type: the parameter annotated with this class (or a subclass) gets the
                framework's context: it is left out of the schema.
            skip: names of other parameters the caller fills in; left out too.
            structured_output: force the output schema on or off; None: by the annotation.

        Raises:
            TypeError: a hint cannot be resolved or described, a parameter cannot be passed
                by name, or `structured_output=True` meets a type without a JSON form.
        """
        name = getattr(fn, "__name__", type(fn).__name__)
        try:
            signature = inspect.signature(fn, eval_str=True)
        except NameError as exc:
            raise TypeError(f"cannot resolve the type hints of {name}(): {exc}") from exc
        params, context_param = _split_parameters(name, signature, context_type, skip)
        description, arg_docs = parse_docstring(inspect.getdoc(fn))
        output, output_schema, wraps = _output_schema(
            name, signature.return_annotation, structured_output
        )
        return cls(
            name=name,
            description=description,
            input_schema=_input_schema(_arguments_model(name, params), params, arg_docs),
            output_schema=output_schema,
            wraps_result=wraps,
            context_param=context_param,
            _arguments=_ArgumentsValidator(name, params),
            _output=output,
        )

    def validate(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Validate a call's JSON arguments and convert them into the function's kwargs.

        Models, dataclasses, datetimes, enums etc. come back as Python objects; parameters
        the call left out get their defaults. Unknown arguments are dropped.

        Raises:
            InvalidArguments: an argument is missing or does not fit its type.
        """
        try:
            kwargs = self._arguments.validate(arguments)
        except ValidationError as exc:
            names = arguments if isinstance(arguments, Mapping) else ()
            ignored = sorted(str(key) for key in names if key not in self._arguments.names)
            problems = [_problem(detail) for detail in exc.errors()]
            raise InvalidArguments(problems, ignored=ignored) from exc
        return kwargs

    def serialize_output(self, value: Any) -> Any:
        """The structured content for a return value: JSON-able, wrapped per `wraps_result`.

        Raises:
            ValueError: the function has no output schema.
            TypeError: the value does not fit the return annotation.
        """
        if self._output is None:
            raise ValueError(f"{self.name}() has no structured output")
        try:
            checked = self._output.validate_python(value)
            data = self._output.dump_python(checked, mode="json", warnings="error")
        except (ValidationError, PydanticSerializationError) as exc:
            raise TypeError(
                f"{self.name}() returned a value that does not fit its return annotation: {exc}"
            ) from exc
        return {"result": data} if self.wraps_result else data


# --- parameters -------------------------------------------------------------------------------


def _split_parameters(
    name: str, signature: inspect.Signature, context_type: type | None, skip: Collection[str]
) -> tuple[list[inspect.Parameter], str | None]:
    """The parameters that go into the schema, and the context parameter's name."""
    params: list[inspect.Parameter] = []
    context_param: str | None = None
    for param in signature.parameters.values():
        if context_type is not None and _mentions_class(param.annotation, context_type):
            if context_param is not None:
                raise TypeError(
                    f"{name}() has two context parameters: {context_param}, {param.name}"
                )
            context_param = param.name
        elif param.name in skip:
            continue
        elif param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            raise TypeError(
                f"{name}(): parameter {param.name!r} cannot be passed by name; "
                "tool parameters must be named (no *args, **kwargs or '/')"
            )
        else:
            params.append(param)
    return params, context_param


def _strip_annotated(hint: Any) -> Any:
    while get_origin(hint) is Annotated:
        hint = get_args(hint)[0]
    return hint


def _union_members(hint: Any) -> tuple[Any, ...] | None:
    return get_args(hint) if get_origin(hint) in (Union, UnionType) else None


def _mentions_class(annotation: Any, cls: type) -> bool:
    """Whether the annotation is `cls` (or a subclass), also inside Annotated and unions."""
    hint = _strip_annotated(annotation)
    members = _union_members(hint)
    if members is not None:
        return any(_mentions_class(member, cls) for member in members)
    hint = get_origin(hint) or hint
    return isinstance(hint, type) and issubclass(hint, cls)


@final
class _ArgumentsValidator:
    """What `FunctionSignature.validate` runs: the parameters as a TypedDict, so that a
    call's arguments are validated straight into its kwargs (five times cheaper than the
    model of the schema, whose instance would then be renamed back field by field).

    The same hints, each under its parameter's name (the alias pins the key, as in the
    model); a parameter with a default may be left out, and `validate` fills the default in
    (pydantic's rule: an unhashable default is copied for each call, a hashable one shared).
    Built at the first call: registering a tool should not pay ~1 ms for a validator that
    may never run (the model, built at registration, has already vetted the hints)."""

    __slots__ = ("_defaults", "_fresh", "_name", "_params", "_validator", "names")

    def __init__(self, name: str, params: Sequence[inspect.Parameter]) -> None:
        self._name = name
        self._params = tuple(params)
        self._validator: SchemaValidator | None = None
        self.names = frozenset(param.name for param in params)
        defaulted = [param for param in params if param.default is not param.empty]
        self._defaults = {p.name: p.default for p in defaulted if _hashable(p.default)}
        self._fresh = {p.name: p.default for p in defaulted if not _hashable(p.default)}

    def validate(self, arguments: Any) -> dict[str, Any]:
        """The validated arguments as kwargs, defaults filled in (raises pydantic's
        `ValidationError`)."""
        if self._validator is None:
            self._validator = self._build()
        kwargs: dict[str, Any] = self._validator.validate_python(arguments)
        if self._defaults:
            kwargs = {**self._defaults, **kwargs}
        for name, default in self._fresh.items():
            if name not in kwargs:
                kwargs[name] = copy.deepcopy(default)
        return kwargs

    def _build(self) -> SchemaValidator:
        fields: dict[str, Any] = {}
        for param in self._params:
            hint = Any if param.annotation is param.empty else param.annotation
            hint = cast(Any, Annotated)[hint, Field(alias=param.name)]
            fields[param.name] = hint if param.default is param.empty else NotRequired[hint]
        typed = cast(Any, TypedDict)(f"{self._name}_arguments", fields)
        try:
            return TypeAdapter(typed).validator  # type: ignore[return-value]
        except PydanticUserError as exc:
            reason = f"cannot build a schema for the parameters of {self._name}(): {exc}"
            raise TypeError(reason) from exc


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _arguments_model(name: str, params: Sequence[inspect.Parameter]) -> type[BaseModel]:
    """The parameters as a model: what the input schema is generated from."""
    # Fields are named p0, p1, ... with the parameter name as alias, so that any parameter
    # name (`json`, `schema`, `_private`) works without clashing with BaseModel's attributes.
    fields: dict[str, Any] = {}
    for index, param in enumerate(params):
        hint = Any if param.annotation is param.empty else param.annotation
        default = ... if param.default is param.empty else param.default
        fields[f"p{index}"] = (cast(Any, Annotated)[hint, Field(alias=param.name)], default)
    try:
        return create_model(f"{name}_arguments", __config__=_ARGUMENTS_CONFIG, **fields)
    except PydanticUserError as exc:
        raise TypeError(f"cannot build a schema for the parameters of {name}(): {exc}") from exc


class _QuietSchema(GenerateJsonSchema):
    # A default JSON cannot hold (a sentinel) is left out of the schema without a warning.
    def emit_warning(self, kind: JsonSchemaWarningKind, detail: str) -> None:
        if kind != "non-serializable-default":
            super().emit_warning(kind, detail)


def _input_schema(
    arguments: type[BaseModel], params: Sequence[inspect.Parameter], docs: Mapping[str, str]
) -> dict[str, Any]:
    tidy = _tidy(arguments.model_json_schema(by_alias=True, schema_generator=_QuietSchema))
    properties: dict[str, Any] = tidy.get("properties", {})
    for index, param in enumerate(params):
        prop = _plain_when_default_none(properties[param.name])
        if arguments.model_fields[f"p{index}"].description is None and param.name in docs:
            prop["description"] = docs[param.name]
        properties[param.name] = prop
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if tidy.get("required"):
        schema["required"] = tidy["required"]
    if "$defs" in tidy:
        schema["$defs"] = tidy["$defs"]
    return schema


def _plain_when_default_none(prop: dict[str, Any]) -> dict[str, Any]:
    """`anyOf: [X, null]` with `default: null` → `X` (see the module docstring)."""
    branches = prop.get("anyOf")
    if (
        prop.get("default", 0) is not None
        or not isinstance(branches, list)
        or _NULL not in branches
    ):
        return prop
    rest = {key: value for key, value in prop.items() if key not in ("anyOf", "default")}
    others = [branch for branch in branches if branch != _NULL]
    if len(others) == 1 and isinstance(others[0], dict) and not others[0].keys() & rest.keys():
        return {**others[0], **rest}
    return {"anyOf": others, **rest}


# --- output -----------------------------------------------------------------------------------


def _is_rich(hint: Any) -> bool:
    """Whether the type is, or involves, content that has no JSON form (bytes, blocks...)."""
    hint = _strip_annotated(hint)
    origin = get_origin(hint)
    if origin in (Union, UnionType, list, tuple, set, frozenset, Sequence, Iterable):
        return any(_is_rich(arg) for arg in get_args(hint) if arg is not Ellipsis)
    return isinstance(hint, type) and issubclass(hint, CONTENT_TYPES)


def _is_text(hint: Any) -> bool:
    hint = _strip_annotated(hint)
    members = _union_members(hint) or (hint,)
    return all(member in (str, NoneType) for member in members) and str in members


def _output_schema(
    name: str, annotation: Any, structured_output: bool | None
) -> tuple[TypeAdapter[Any] | None, dict[str, Any] | None, bool]:
    """(adapter, schema, wraps_result) for a return annotation; the rules are the module's."""
    if structured_output is False:
        return None, None, False
    hint, forced = _strip_annotated(annotation), structured_output is True
    if annotation is inspect.Signature.empty or hint in (None, NoneType) or _is_rich(hint):
        if forced:
            raise TypeError(
                f"{name}(): structured_output=True, but {annotation!r} has no JSON form"
            )
        return None, None, False
    if not forced and (hint is Any or hint is object or _is_text(hint)):
        return None, None, False
    try:
        adapter: TypeAdapter[Any] = TypeAdapter(annotation)
        schema = _tidy(adapter.json_schema(mode="serialization", schema_generator=_QuietSchema))
    except PydanticUserError as exc:
        if forced:
            raise TypeError(f"cannot build an output schema for {name}(): {exc}") from exc
        return None, None, False
    if schema.get("type") == "object":
        return adapter, schema, False
    defs = schema.pop("$defs", None)
    wrapped = {"type": "object", "properties": {"result": schema}, "required": ["result"]}
    return adapter, ({**wrapped, "$defs": defs} if defs else wrapped), True


# --- schema clean-up --------------------------------------------------------------------------

# Where a JSON Schema keyword holds subschemas: a map of them, a list of them, or one.
_SCHEMA_MAPS: Final = frozenset({"properties", "patternProperties", "$defs", "dependentSchemas"})
_SCHEMA_LISTS: Final = frozenset({"anyOf", "allOf", "oneOf", "prefixItems"})
_SCHEMA_VALUES: Final = frozenset(
    {"items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else",
     "unevaluatedItems", "unevaluatedProperties"}
)  # fmt: skip


def _transform(schema: Any, visit: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
    """Rebuild a schema bottom-up, passing every (sub)schema object through `visit`.

    Only keywords that hold schemas are walked, so data (`default`, `enum`, `const`) and
    property *names* (a property called "title") are never mistaken for keywords.
    """
    if not isinstance(schema, dict):
        return schema  # a boolean schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _transform(sub, visit) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [_transform(sub, visit) for sub in value]
        elif key in _SCHEMA_VALUES:
            out[key] = _transform(value, visit)
        else:
            out[key] = value
    return visit(out)


def _simplify(node: dict[str, Any]) -> dict[str, Any]:
    """Drop `title`; fold a lone `allOf: [X]` (older pydantic's way to annotate a $ref)."""
    node.pop("title", None)
    all_of = node.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
        rest = {key: value for key, value in node.items() if key != "allOf"}
        if not all_of[0].keys() & rest.keys():
            return {**all_of[0], **rest}
    return node


def _tidy(schema: JsonSchemaValue) -> dict[str, Any]:
    """Titles dropped, `$ref`s inlined except into recursive `$defs` (kept at the root)."""
    schema = _transform(schema, _simplify)
    inliner = _Inliner(schema.pop("$defs", {}))
    root: dict[str, Any] = _transform(schema, inliner.visit)
    kept = {name: inliner.resolve(name) for name in sorted(inliner.recursive)}
    if set(root) == {"$ref"} and root["$ref"].removeprefix(_REF_PREFIX) in kept:
        root = copy.deepcopy(kept[root["$ref"].removeprefix(_REF_PREFIX)])  # a recursive root
    if kept:
        root["$defs"] = kept
    return root


class _Inliner:
    """Replaces `{"$ref": "#/$defs/X", ...}` by X merged with the siblings, unless X is
    recursive (can reach itself through references)."""

    def __init__(self, defs: dict[str, Any]) -> None:
        self.defs = defs
        edges = {name: set(_REF.findall(json.dumps(body))) for name, body in defs.items()}
        self.recursive = {name for name in defs if name in _reachable(edges, name)}
        self.resolved: dict[str, dict[str, Any]] = {}

    def resolve(self, name: str) -> dict[str, Any]:
        if name not in self.resolved:
            self.resolved[name] = _transform(self.defs[name], self.visit)
        return self.resolved[name]

    def visit(self, node: dict[str, Any]) -> dict[str, Any]:
        ref = node.get("$ref")
        if not isinstance(ref, str) or not ref.startswith(_REF_PREFIX):
            return node
        name = ref.removeprefix(_REF_PREFIX)
        if name in self.recursive or name not in self.defs:
            return node
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        return {**copy.deepcopy(self.resolve(name)), **siblings}


def _reachable(edges: Mapping[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        fresh = edges.get(todo.pop(), set()) - seen
        seen |= fresh
        todo.extend(fresh)
    return seen


# --- docstrings -------------------------------------------------------------------------------

_SECTION: Final = re.compile(
    r"^(?:(?P<args>Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments"
    r"|Other Parameters)|Returns?|Yields?|Raises):\s*$"
)
_ARG_LINE: Final = re.compile(r"^\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


def parse_docstring(doc: str | None) -> tuple[str | None, dict[str, str]]:
    """Split a Google-style docstring into (description, {parameter: description}); the
    description is all but the Args/Returns/Raises-like sections, or None."""
    body: list[str] = []
    arg_lines: list[str] = []
    section: str | None = None
    for line in inspect.cleandoc(doc).splitlines() if doc else ():
        header = _SECTION.match(line)
        if header:
            section = "args" if header["args"] else "other"
            continue
        if section is not None and line.strip() and not line[0].isspace():
            section = None  # an unindented line ends the section
        if section is None:
            body.append(line)
        elif section == "args":
            arg_lines.append(line)
    description = re.sub(r"\n{3,}", "\n\n", "\n".join(body)).strip()
    return description or None, _parse_args(arg_lines)


def _parse_args(lines: Sequence[str]) -> dict[str, str]:
    """`name (type): text` entries; deeper-indented lines continue the entry before."""
    entries: dict[str, list[str]] = {}
    indent: int | None = None
    current: str | None = None
    for line in lines:
        text = line.strip()
        if not text:
            continue
        depth = len(line) - len(line.lstrip())
        indent = depth if indent is None else indent
        match = _ARG_LINE.match(text) if depth <= indent else None
        if match:
            current = match.group(1)
            entries[current] = [match.group(2)]
        elif current is not None:
            entries[current].append(text)
    return {name: " ".join(part for part in parts if part) for name, parts in entries.items()}
