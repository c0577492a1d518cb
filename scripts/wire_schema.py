"""Schema model for ``gen_wire_types.py``: turns MCP JSON Schemas into a small type IR.

The IR is a list of constructs: a ``StructDef`` (one ``msgspec.Struct``) or an ``AliasDef``
(a type alias). A construct defined by several schema versions is merged: its properties are
the union over those versions, a property's type comes from the newest version having it, and
a property is required only if every version requires it.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import msgspec

Schema = dict[str, Any]
Entries = list[tuple[str, Schema]]  # (version, schema), oldest first

# Definitions that stay open JSON however the schema spells them.
FORCED_ALIASES: dict[str, str] = {
    "MetaObject": "dict[str, Any]",
    "RequestMetaObject": "dict[str, Any]",
    "ResultMetaObject": "dict[str, Any]",
    "NotificationMetaObject": "dict[str, Any]",
    "SubscriptionsListenResultMetaObject": "dict[str, Any]",
    "JSONObject": "dict[str, Any]",
    "JSONArray": "list[Any]",
    "JSONValue": "Any",
}
# Properties holding a JSON Schema or free-form JSON: never turned into a nested Struct.
OPEN_PROPERTIES = frozenset(
    {
        "_meta",
        "inputSchema",
        "outputSchema",
        "requestedSchema",
        "structuredContent",
        "arguments",
        "experimental",
        "extensions",
    }
)
# Attribute names that would shadow a name used in the generated annotations.
RESERVED_ATTRS = frozenset(
    {"list", "dict", "str", "int", "float", "bool", "Any", "Literal", "UnsetType", "UNSET"}
)
TAG_FIELDS = ("type", "method")


@dataclass(frozen=True)
class Ty:
    """A Python type expression plus what msgspec needs to know to put it in a union.

    ``cats`` are the JSON shapes the type decodes from: any, str, int, float, bool, none,
    array, object (dict or untagged Struct) and tagged (tagged Structs on ``tag_field``).
    """

    expr: str
    deps: frozenset[str] = frozenset()
    cats: frozenset[str] = frozenset({"any"})
    tag_field: str = ""
    tags: tuple[str, ...] = ()


def cats(*names: str) -> frozenset[str]:
    return frozenset(names)


ANY = Ty("Any")
DICT_ANY = Ty("dict[str, Any]", cats=cats("object"))
PRIMITIVES: dict[str, Ty] = {
    "string": Ty("str", cats=cats("str")),
    "integer": Ty("int", cats=cats("int")),
    "number": Ty("int | float", cats=cats("int", "float")),
    "boolean": Ty("bool", cats=cats("bool")),
    "null": Ty("None", cats=cats("none")),
}


@dataclass(frozen=True)
class FieldDef:
    wire: str
    attr: str
    ty: Ty
    required: bool

    @property
    def explicit_name(self) -> bool:
        return camel_of(self.attr) != self.wire


@dataclass
class StructDef:
    name: str
    origin: str
    doc: str
    fields: list[FieldDef]
    tag_field: str = ""
    tag: str = ""

    @property
    def deps(self) -> frozenset[str]:
        return frozenset().union(*(f.ty.deps for f in self.fields))


@dataclass
class AliasDef:
    name: str
    origin: str
    ty: Ty

    @property
    def deps(self) -> frozenset[str]:
        return self.ty.deps


Construct = StructDef | AliasDef


def camel_of(attr: str) -> str:
    """The wire name msgspec's ``rename="camel"`` gives attribute ``attr``."""
    struct = msgspec.defstruct("_Probe", [(attr, int)], rename="camel")
    encoded: tuple[str, ...] = struct.__struct_encode_fields__
    return encoded[0]


def snake_of(wire: str) -> str:
    """A Python attribute name for wire name ``wire``."""
    name = re.sub(r"[^0-9A-Za-z]+", "_", wire.split("/")[-1])
    name = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name).lower().strip("_")
    if not name or name[0].isdigit():
        name = "f_" + name
    if keyword.iskeyword(name) or name in RESERVED_ATTRS:
        name += "_"
    return name


def pascal_of(wire: str) -> str:
    parts = re.split(r"[^0-9A-Za-z]+", wire)
    return "".join(p[:1].upper() + p[1:] for p in parts if p)


def unlink(text: str, names: Collection[str]) -> str:
    """Replace TSDoc ``{@link Name}`` / ``{@link Nametext}`` by ``Name`` / ``text``."""

    def plain(match: re.Match[str]) -> str:
        body = match.group(1)
        for cut in range(len(body), 0, -1):
            if body[:cut] in names:
                return body[cut:].strip(" |") or body[:cut]
        return body

    return re.sub(r"\{@link ([^}]*)\}", plain, text)


def first_sentence(text: str, names: Collection[str] = ()) -> str:
    """First sentence of a description, as plain ASCII on one line."""
    text = unlink(text, names)
    for bad, good in (("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"')):
        text = text.replace(bad, good)
    text = text.replace("\u2014", "-").replace("\u2013", "-").replace("\u2026", "...")
    text = " ".join(text.encode("ascii", "ignore").decode().split())
    match = re.search(r"(?<=[.!?])\s+(?=[A-Z`(\"*])", text)
    if match:
        text = text[: match.start()]
    text = text.replace("\\", "\\\\").replace('"""', "'''").strip()
    if text and text[-1] not in ".!?":
        text += "."
    return text


def ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def is_plain_ref(schema: Schema) -> bool:
    return "$ref" in schema and not set(schema) - {"$ref", "description", "$schema"}


@dataclass
class SchemaSet:
    """The definitions of one or more versions of one schema family."""

    defs: dict[str, dict[str, Schema]]  # version -> name -> schema
    versions: list[str] = field(default_factory=list)

    def entries(self, name: str) -> Entries:
        return [(v, self.defs[v][name]) for v in self.versions if name in self.defs[v]]

    def deref(self, version: str, schema: Schema) -> Schema:
        seen = 0
        while is_plain_ref(schema) and seen < 20:
            target = self.defs[version].get(ref_name(schema["$ref"]))
            if target is None:
                return {}
            schema, seen = target, seen + 1
        return schema

    def flatten(self, version: str, schema: Schema) -> Schema | None:
        """The object schema ``schema`` amounts to (allOf merged), or None if not one."""
        schema = self.deref(version, schema)
        if "allOf" not in schema:
            own = schema.get("properties")
            return schema if isinstance(own, dict) and own else None
        props: dict[str, Schema] = {}
        required: set[str] = set(schema.get("required", []))
        for member in schema["allOf"]:
            flat = self.flatten(version, member)
            if flat is None:
                return None
            props.update(flat["properties"])
            required.update(flat.get("required", []))
        props.update(schema.get("properties", {}))
        merged: Schema = {"type": "object", "properties": props, "required": sorted(required)}
        if "description" in schema:
            merged["description"] = schema["description"]
        return merged


def const_tag(flat: Schema) -> tuple[str, str]:
    """The (tag_field, tag) of an object schema, or ("", "") when untagged."""
    props = flat.get("properties", {})
    for tag_field in TAG_FIELDS:
        prop = props.get(tag_field, {})
        if isinstance(prop, dict) and isinstance(prop.get("const"), str):
            return tag_field, prop["const"]
    return "", ""
