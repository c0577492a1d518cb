"""Builds the wire-type IR (``wire_schema`` constructs) from a set of schema definitions."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from wire_schema import (
    ANY,
    DICT_ANY,
    FORCED_ALIASES,
    OPEN_PROPERTIES,
    PRIMITIVES,
    AliasDef,
    Construct,
    Entries,
    FieldDef,
    Schema,
    SchemaSet,
    StructDef,
    Ty,
    cats,
    const_tag,
    first_sentence,
    is_plain_ref,
    pascal_of,
    ref_name,
    snake_of,
)

SINGLE_CATS = ("str", "int", "float", "array", "object")


def literal_ty(values: list[Any]) -> Ty:
    """``Literal[...]`` of string or integer constants; Any for anything else."""
    if values and all(isinstance(v, str) for v in values):
        kind = "str"
    elif values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        kind = "int"
    else:
        return ANY
    unique = sorted(set(values))
    return Ty(f"Literal[{', '.join(json.dumps(v) for v in unique)}]", cats=cats(kind))


def union_ok(tys: list[Ty]) -> bool:
    """Whether msgspec can decode the union of ``tys`` unambiguously."""
    counts = Counter(c for t in tys for c in t.cats)
    if any(counts[c] > 1 for c in SINGLE_CATS):
        return False
    tagged = [t for t in tys if "tagged" in t.cats]
    if not tagged:
        return True
    tags = [tag for t in tagged for tag in t.tags]
    return (
        counts["object"] == 0
        and len({t.tag_field for t in tagged}) == 1
        and len(tags) == len(set(tags))
    )


def combine(tys: list[Ty]) -> Ty:
    """The union of ``tys``: typed when msgspec can decode it, else dict/Any."""
    unique = list({t.expr: t for t in tys}.values())
    if len(unique) == 1:
        return unique[0]
    if any("any" in t.cats for t in unique):
        return ANY
    if union_ok(unique):
        tagged = [t for t in unique if "tagged" in t.cats]
        return Ty(
            " | ".join(t.expr for t in unique),
            frozenset().union(*(t.deps for t in unique)),
            frozenset().union(*(t.cats for t in unique)),
            tagged[0].tag_field if tagged else "",
            tuple(tag for t in tagged for tag in t.tags),
        )
    if all(t.cats <= {"object", "tagged"} for t in unique):
        return DICT_ANY
    return ANY


def ty_of_construct(construct: Construct) -> Ty:
    """How a reference to ``construct`` types."""
    name, deps = construct.name, frozenset({construct.name})
    if isinstance(construct, StructDef):
        if construct.tag_field:
            return Ty(name, deps, cats("tagged"), construct.tag_field, (construct.tag,))
        return Ty(name, deps, cats("object"))
    inner = construct.ty
    return Ty(name, deps, inner.cats, inner.tag_field, inner.tags)


OPTIONAL_ALWAYS = frozenset({"resultType"})


class Builder:
    """Turns the definitions of a ``SchemaSet`` into constructs, merged across versions."""

    def __init__(
        self,
        schemas: SchemaSet,
        external: dict[str, Construct] | None = None,
        skip: frozenset[str] = frozenset(),
    ) -> None:
        self.schemas = schemas
        self.external = external or {}
        self.skip = skip
        self.out: dict[str, Construct] = {}
        self._building: set[str] = set()
        self._all_defs = {n for d in schemas.defs.values() for n in d}

    def build(self, names: Iterable[str]) -> dict[str, Construct]:
        for name in sorted(names):
            self.ensure(name)
        return self.out

    def ensure(self, name: str) -> None:
        if name in self.out or name in self._building:
            return
        if name in self.skip:
            raise ValueError(f"a kept construct references skipped {name}")
        self._building.add(name)
        if name in FORCED_ALIASES:
            expr = FORCED_ALIASES[name]
            kind = {"Any": "any", "list[Any]": "array"}.get(expr, "object")
            self.out[name] = AliasDef(name, name, Ty(expr, cats=cats(kind)))
        else:
            self.out[name] = self._build_def(name, self.schemas.entries(name))
        self._building.discard(name)

    def _build_def(self, name: str, entries: Entries) -> Construct:
        version, newest = entries[-1]
        if not is_plain_ref(newest) and self.schemas.flatten(version, newest) is not None:
            objs = self._objects(entries)
            description = newest.get("description", "")
            doc = first_sentence(description, self._all_defs) or f"The ``{name}`` object."
            return self._make_struct(name, name, objs, doc)
        return AliasDef(name, name, self.type_of(name, name, entries))

    def _objects(self, entries: Entries) -> Entries:
        objs: Entries = []
        for version, schema in entries:
            flat = self.schemas.flatten(version, schema)
            if flat is not None:
                objs.append((version, flat))
        return objs

    def _make_struct(self, name: str, origin: str, objs: Entries, doc: str) -> StructDef:
        tag_field, tag = const_tag(objs[-1][1])
        wires = sorted({w for _, s in objs for w in s["properties"]})
        fields: list[FieldDef] = []
        attrs: set[str] = set()
        for wire in wires:
            if wire == tag_field:
                continue
            prop_entries = [(v, s["properties"][wire]) for v, s in objs if wire in s["properties"]]
            # `resultType` stays optional everywhere: a client MUST read its absence as
            # "complete", and the Connection stamps it on every modern result it sends.
            required = wire not in OPTIONAL_ALWAYS and all(
                wire in s.get("required", []) for _, s in objs
            )
            ty = self.type_of(name + pascal_of(wire), origin, prop_entries, wire)
            attr = snake_of(wire)
            while attr in attrs:
                attr += "_"
            attrs.add(attr)
            fields.append(FieldDef(wire, attr, ty, required))
        fields.sort(key=lambda f: (not f.required, f.wire))
        return StructDef(name, origin, doc, fields, tag_field, tag)

    def ref_ty(self, name: str) -> Ty:
        if name in self.external:
            return ty_of_construct(self.external[name])
        self.ensure(name)
        construct = self.out.get(name)
        if construct is not None:
            return ty_of_construct(construct)
        version, newest = self.schemas.entries(name)[-1]  # recursive reference
        flat = self.schemas.flatten(version, newest)
        if flat is None:
            return ANY
        tag_field, tag = const_tag(flat)
        if tag_field:
            return Ty(name, frozenset({name}), cats("tagged"), tag_field, (tag,))
        return Ty(name, frozenset({name}), cats("object"))

    def type_of(self, hint: str, origin: str, entries: Entries, wire: str = "") -> Ty:
        """The type of the newest schema in ``entries`` (older ones merge into Structs)."""
        version, schema = entries[-1]
        kind = schema.get("type")
        if is_plain_ref(schema):
            return self.ref_ty(ref_name(schema["$ref"]))
        if "allOf" in schema:
            return self._object_ty(hint, origin, entries, wire)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                return self._union_ty(hint, origin, version, schema[key])
        if "const" in schema:
            return literal_ty([schema["const"]])
        if "enum" in schema:
            return literal_ty(list(schema["enum"]))
        if isinstance(kind, list):
            return combine([self.type_of(hint, origin, [(version, {"type": k})]) for k in kind])
        if kind == "object" or "properties" in schema or "additionalProperties" in schema:
            return self._object_ty(hint, origin, entries, wire)
        if kind == "array":
            return self._array_ty(hint, origin, entries)
        return PRIMITIVES.get(str(kind), ANY)

    def _object_ty(self, hint: str, origin: str, entries: Entries, wire: str) -> Ty:
        version, schema = entries[-1]
        if self.schemas.flatten(version, schema) is not None:
            if wire in OPEN_PROPERTIES:
                return DICT_ANY
            return self._nested_struct(hint, origin, entries)
        extra = schema.get("additionalProperties")
        if not isinstance(extra, dict) or not extra or "not" in extra or "allOf" in schema:
            return DICT_ANY
        values = [
            (v, s["additionalProperties"])
            for v, s in entries
            if isinstance(s.get("additionalProperties"), dict)
        ]
        value = self.type_of(hint + "Value", origin, values)
        return Ty(f"dict[str, {value.expr}]", value.deps, cats("object"))

    def _nested_struct(self, name: str, origin: str, entries: Entries) -> Ty:
        if name in self.out or name in self._all_defs or name in self.external:
            raise ValueError(f"nested struct name {name} collides with another construct")
        description = entries[-1][1].get("description", "")
        doc = first_sentence(description, self._all_defs) or f"Inline object of ``{origin}``."
        struct = self._make_struct(name, origin, self._objects(entries), doc)
        self.out[name] = struct
        return ty_of_construct(struct)

    def _array_ty(self, hint: str, origin: str, entries: Entries) -> Ty:
        items = [(v, s["items"]) for v, s in entries if isinstance(s.get("items"), dict)]
        if not items or items[-1][0] != entries[-1][0]:
            return Ty("list[Any]", cats=cats("array"))
        item = self.type_of(hint + "Item", origin, items)
        return Ty(f"list[{item.expr}]", item.deps, cats("array"))

    def _union_ty(self, hint: str, origin: str, version: str, members: list[Schema]) -> Ty:
        consts: list[Any] = []
        for member in members:
            consts.extend([member["const"]] if "const" in member else member.get("enum", [None]))
        if None not in consts:
            return literal_ty(consts)
        tys: list[Ty] = []
        for member in members:
            if is_plain_ref(member):
                tys.append(self.ref_ty(ref_name(member["$ref"])))
            elif self.schemas.flatten(version, member) is not None:
                tys.append(DICT_ANY)  # inline object members are not worth a Struct each
            else:
                tys.append(self.type_of(hint, origin, [(version, member)]))
        return combine(tys)
