"""Check every JSON-RPC frame of an MCP conversation against the official JSON Schemas.

Layer: testing (above protocol, transports, server and client; below cli). Nothing in the
library proper imports this module. It is public so that users can referee their own servers
and clients too, but it is test tooling and needs the `testing` extra
(`pip install "mcpkit[testing]"`, which brings `jsonschema`).

Why: the protocol layer is written by hand from the spec prose; the machine-generated schema of
each protocol version is an independent referee. `FrameValidator` follows one conversation in
both directions, works out for itself which version and which schema definition every frame
must satisfy, and raises `FrameSchemaError` (an `AssertionError`) on the first frame that does
not.

Version of a frame, first rule that applies:

1. a request or notification whose `params._meta` names
   `io.modelcontextprotocol/protocolVersion` (the modern era) uses that version (an unknown one
   falls back to the newest modern version); a response uses the version of its request;
2. an `initialize` request uses the version it asks for (an unknown one falls back to the
   newest legacy version); its response uses the `result.protocolVersion` the server chose,
   which from then on is the session version;
3. anything else uses the session version, else the last modern version seen, else the
   constructor's `default_version` (the newest version in the schema folder).

Definition of a frame: requests and notifications by `method`, looked up among the members of
the version's `ClientRequest`/`ClientNotification` unions (client->server) or
`ServerRequest`/`ServerNotification` (server->client), then in the version's extension schemas
(`<version>/extensions/*/schema.json`, either direction; not MCP Apps, whose schema describes
host<->iframe messages, not MCP traffic). A method the version defines only for the other
direction, or only as a type embedded in other messages, is an error; a method it does not
know at all (a custom one) gets the bare `JSONRPCRequest`/`JSONRPCNotification` envelope
check and is recorded as envelope-only. A result is checked with `<X>ResultResponse` where
the version has it, else with the result envelope plus `<X>Result` (or `InputRequiredResult`
when `resultType` says so, or `EmptyResult`), where `<X>Request` was the definition of the
request with the same id sent the other way. Errors use `JSONRPCErrorResponse` (`JSONRPCError`
before 2025-11-25). Batches (2025-03-26 only) are checked whole and element by element. Frames
that are not JSON at all are skipped and recorded: tests send such garbage on purpose.

Each schema document is validated with the dialect its `$schema` declares (draft-07 for the
three oldest files, 2020-12 for the rest) through one `referencing` registry. Documents and
compiled validators are cached per folder and per (document, definition), so a fresh
`FrameValidator` per test is cheap.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeAlias

from jsonschema.exceptions import best_match
from jsonschema.validators import Draft202012Validator, validator_for
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = [
    "SCHEMA_DIR_ENV",
    "VERSION_META_KEY",
    "Direction",
    "FrameRecord",
    "FrameSchemaError",
    "FrameValidator",
    "default_schema_dir",
]

Direction: TypeAlias = Literal["c2s", "s2c"]
Outcome: TypeAlias = Literal["checked", "envelope-only", "skipped"]

VERSION_META_KEY = "io.modelcontextprotocol/protocolVersion"
SCHEMA_DIR_ENV = "MCPKIT_SCHEMA_DIR"

_ARROW: Mapping[str, str] = {"c2s": "client->server", "s2c": "server->client"}
_OTHER: Mapping[Direction, Direction] = {"c2s": "s2c", "s2c": "c2s"}
_UNIONS: Mapping[tuple[Direction, bool], str] = {
    ("c2s", True): "ClientRequest",
    ("s2c", True): "ServerRequest",
    ("c2s", False): "ClientNotification",
    ("s2c", False): "ServerNotification",
}
_VERSION_DIR = re.compile(r"\d{4}-\d{2}-\d{2}")
# Extension schemas that describe no MCP wire message (MCP Apps: host <-> iframe postMessage).
_NOT_WIRE_EXTENSIONS = frozenset({"apps"})
_SHOW = 400  # characters of a frame or a reason shown in an error message


def _truncate(text: str, limit: int = _SHOW) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _show(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return _truncate(repr(bytes(value)))
    try:
        return _truncate(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    except (TypeError, ValueError):
        return _truncate(repr(value))


class FrameSchemaError(AssertionError):
    """A frame does not match the schema definition it must satisfy.

    Attributes name everything needed to find the mistake: `version`, `definition` (the schema
    definition, or `JSON-RPC 2.0` for rules of the base protocol), `path` (a JSON path into the
    frame, `$` for the whole frame), `reason`, `direction` and the offending `frame`.
    """

    def __init__(
        self,
        reason: str,
        *,
        version: str,
        definition: str,
        direction: Direction,
        frame: Any,
        path: str = "$",
    ) -> None:
        self.reason = reason
        self.version = version
        self.definition = definition
        self.direction = direction
        self.frame = frame
        self.path = path
        super().__init__(
            f"MCP {version} {_ARROW[direction]} frame does not match {definition} at {path}: "
            f"{_truncate(reason)}\n    frame: {_show(frame)}"
        )

    def in_batch(self, index: int, batch: list[Any]) -> FrameSchemaError:
        """The same failure, located inside the batch it came from."""
        return FrameSchemaError(
            f"batch element {index}: {self.reason}",
            version=self.version,
            definition=self.definition,
            direction=self.direction,
            frame=batch,
            path=f"$[{index}]{self.path[1:]}",
        )


@dataclass(frozen=True)
class FrameRecord:
    """What the validator did with one frame (or one batch element).

    `outcome` is `checked` (fully, against `definition`), `envelope-only` (a method the schema
    does not know, or a response to a request never seen: only the JSON-RPC envelope was
    checked) or `skipped` (not JSON, or handed over with `skip()`); `note` says why.
    """

    direction: Direction
    outcome: Outcome
    version: str | None = None
    definition: str | None = None
    method: str | None = None
    note: str = ""


# --- the schema folder ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Doc:
    """One schema document: where the registry knows it and what it defines."""

    uri: str
    defs_key: str
    defs: Mapping[str, Any]
    validator_cls: Any

    def first(self, *names: str) -> str | None:
        return next((name for name in names if name in self.defs), None)


Target: TypeAlias = tuple[_Doc, str]


@dataclass(frozen=True)
class _Version:
    """One protocol version: its core document, extensions and method tables."""

    name: str
    core: _Doc
    calls: Mapping[tuple[Direction, bool], Mapping[str, str]]
    ext_calls: Mapping[bool, Mapping[str, Target]]
    methods: Mapping[str, str]  # every method const of the core document -> a definition


def _method_const(schema: Any) -> str | None:
    """The `method` const of a definition, directly or inside an `allOf` member."""
    if not isinstance(schema, Mapping):
        return None
    method = schema.get("properties", {}).get("method", {})
    if isinstance(method, Mapping) and isinstance(method.get("const"), str):
        return str(method["const"])
    for member in schema.get("allOf", ()):
        found = _method_const(member)
        if found is not None:
            return found
    return None


def _alias(defs: Mapping[str, Any], name: str) -> str:
    """A union that is itself a message (one member) is named after its twin definition."""
    return next((other for other, s in defs.items() if other != name and s == defs[name]), name)


def _union_methods(defs: Mapping[str, Any], union: str) -> dict[str, str]:
    schema = defs.get(union)
    if not isinstance(schema, Mapping):
        return {}
    members = schema.get("anyOf") or schema.get("oneOf") or [{"$ref": f"#/x/{union}"}]
    table: dict[str, str] = {}
    for member in members:
        name = str(member.get("$ref", "")).rsplit("/", 1)[-1]
        method = _method_const(defs.get(name))
        if method is not None:
            table[method] = _alias(defs, name) if name == union else name
    return table


def _ext_methods(
    docs: list[_Doc], core_methods: Mapping[str, str]
) -> dict[bool, dict[str, Target]]:
    tables: dict[bool, dict[str, Target]] = {True: {}, False: {}}
    for doc in docs:
        for name, schema in doc.defs.items():
            method = _method_const(schema)
            if method is None or method in core_methods:
                continue
            if name.endswith("Request"):
                tables[True].setdefault(method, (doc, name))
            elif name.endswith("Notification"):
                tables[False].setdefault(method, (doc, name))
    return tables


def _load_doc(path: Path, uri: str) -> tuple[_Doc, Resource[Any]]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    contents = {key: value for key, value in raw.items() if key != "$id"}  # our URI, not theirs
    defs_key = "$defs" if "$defs" in contents else "definitions"
    doc = _Doc(
        uri=uri,
        defs_key=defs_key,
        defs=contents.get(defs_key, {}),
        validator_cls=validator_for(contents, default=Draft202012Validator),
    )
    return doc, Resource.from_contents(contents, default_specification=DRAFT202012)


def _load_version(folder: Path) -> tuple[_Version, list[tuple[str, Resource[Any]]]]:
    base = f"https://mcpkit.invalid/spec/{folder.name}"
    core, resource = _load_doc(folder / "schema.json", f"{base}/schema.json")
    resources, exts = [(core.uri, resource)], []
    for path in sorted(folder.glob("extensions/*/schema.json")):
        if path.parent.name in _NOT_WIRE_EXTENSIONS:
            continue
        ext, ext_resource = _load_doc(path, f"{base}/extensions/{path.parent.name}/schema.json")
        exts.append(ext)
        resources.append((ext.uri, ext_resource))
    methods: dict[str, str] = {}
    for name, schema in core.defs.items():
        method = _method_const(schema)
        if method is not None and not name.startswith(("Client", "Server")):
            methods.setdefault(method, name)
    version = _Version(
        name=folder.name,
        core=core,
        calls={key: _union_methods(core.defs, union) for key, union in _UNIONS.items()},
        ext_calls=_ext_methods(exts, methods),
        methods=methods,
    )
    return version, resources


class _Library:
    """Every version in one schema folder, one registry, and the compiled validators."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.versions: dict[str, _Version] = {}
        resources: list[tuple[str, Resource[Any]]] = []
        folders = sorted(p for p in root.iterdir() if _VERSION_DIR.fullmatch(p.name))
        for folder in folders:
            if (folder / "schema.json").is_file():
                version, found = _load_version(folder)
                self.versions[version.name] = version
                resources.extend(found)
        self.registry: Registry[Any] = Registry().with_resources(resources)
        self.legacy = tuple(v for v, s in self.versions.items() if "initialize" in s.methods)
        self.modern = tuple(v for v, s in self.versions.items() if "server/discover" in s.methods)
        self._validators: dict[tuple[str, str], Any] = {}

    def first_error(self, doc: _Doc, name: str, instance: Any) -> Any:
        """The most relevant validation error of `instance` against `doc`'s `name`, or None."""
        if name not in doc.defs:
            return None
        validator = self._validators.get((doc.uri, name))
        if validator is None:
            pointer = name.replace("~", "~0").replace("/", "~1")
            schema = {"$ref": f"{doc.uri}#/{doc.defs_key}/{pointer}"}
            validator = doc.validator_cls(schema, registry=self.registry)
            self._validators[doc.uri, name] = validator
        return best_match(validator.iter_errors(instance))


_LIBRARIES: dict[Path, _Library] = {}


def _library(root: Path) -> _Library:
    key = root.resolve()
    library = _LIBRARIES.get(key)
    if library is None:
        if not key.is_dir():
            raise FileNotFoundError(f"MCP schema folder {key} does not exist")
        library = _LIBRARIES[key] = _Library(key)
    return library


def default_schema_dir() -> Path:
    """Where the schemas are when no folder is given: `$MCPKIT_SCHEMA_DIR`, else `tests/spec`.

    `tests/spec` is looked for in the source checkout this module lives in, then under the
    current directory.
    """
    configured = os.environ.get(SCHEMA_DIR_ENV)
    if configured:
        return Path(configured)
    here = Path(__file__).resolve()
    candidates = [here.parents[3] / "tests" / "spec", Path.cwd() / "tests" / "spec"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"no MCP schema folder found (looked in {looked}); pass schema_dir= or set {SCHEMA_DIR_ENV}"
    )


# --- the conversation -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pending:
    """A request seen going one way, waiting for the response coming back."""

    method: str
    version: str
    target: Target | None


def _id_key(request_id: Any) -> str:
    return json.dumps(request_id, sort_keys=True)


def _meta_version(message: Mapping[str, Any]) -> str | None:
    params = message.get("params")
    meta = params.get("_meta") if isinstance(params, Mapping) else None
    version = meta.get(VERSION_META_KEY) if isinstance(meta, Mapping) else None
    return version if isinstance(version, str) else None


def _loads(text: bytes | bytearray | memoryview | str) -> Any:
    """Parse strict JSON (UTF-8, no NaN/Infinity); ValueError if it is not."""
    if not isinstance(text, str):
        text = bytes(text).decode("utf-8")

    def reject(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=reject)


class FrameValidator:
    """Validates the frames of one MCP conversation, both directions, against the schemas.

    `check(frame, direction)` takes a frame as bytes/str (JSON text) or as parsed JSON, with
    `direction` `"c2s"` (client to server) or `"s2c"`, and raises `FrameSchemaError` if it does
    not match. The validator keeps the conversation's state (the negotiated version, the method
    of every request id in each direction), so feed it every frame, in order. `records` says
    what was done with each frame. One validator per conversation. A request id is remembered
    until a new request reuses it, so when both ends of an in-memory pair share a validator,
    each frame is fully checked twice rather than once and then as an unmatched response.
    """

    def __init__(self, schema_dir: Path | None = None, *, default_version: str | None = None):
        self._lib = _library(schema_dir if schema_dir is not None else default_schema_dir())
        if not self._lib.versions:
            raise FileNotFoundError(f"no <version>/schema.json in {self._lib.root}")
        self.default_version = default_version or max(self._lib.versions)
        if self.default_version not in self._lib.versions:
            raise ValueError(f"unknown default_version {default_version!r}; have {self.versions}")
        self._negotiated: str | None = None
        self._modern: str | None = None
        self._pending: dict[tuple[Direction, str], _Pending] = {}
        self.records: list[FrameRecord] = []

    @property
    def versions(self) -> tuple[str, ...]:
        """The protocol versions of the schema folder, oldest first."""
        return tuple(self._lib.versions)

    @property
    def version(self) -> str:
        """The version a frame that names none is checked against right now."""
        return self._negotiated or self._modern or self.default_version

    @property
    def skipped(self) -> list[FrameRecord]:
        return [r for r in self.records if r.outcome == "skipped"]

    @property
    def envelope_only(self) -> list[FrameRecord]:
        return [r for r in self.records if r.outcome == "envelope-only"]

    def check(self, frame: Any, direction: Direction) -> None:
        """Validate one frame (a message or a batch) travelling in `direction`."""
        if direction not in _OTHER:
            raise ValueError(f"direction must be 'c2s' or 's2c', not {direction!r}")
        if isinstance(frame, bytes | bytearray | memoryview | str):
            try:
                frame = _loads(frame)
            except ValueError as exc:  # UnicodeDecodeError is a ValueError too
                self.skip(frame, direction, note=f"not JSON ({exc})")
                return
        if isinstance(frame, list):
            self._check_batch(frame, direction)
        else:
            self._check_message(frame, direction)

    def skip(self, frame: Any, direction: Direction, *, note: str = "skipped on purpose") -> None:
        """Record a frame without checking it (for frames a test makes invalid on purpose)."""
        self.records.append(FrameRecord(direction, "skipped", note=f"{note}: {_show(frame)}"))

    # --- dispatch ---

    def _check_batch(self, batch: list[Any], direction: Direction) -> None:
        version = self.version
        core = self._lib.versions[version].core

        def fail(reason: str) -> FrameSchemaError:
            return FrameSchemaError(
                reason,
                version=version,
                definition="JSONRPCMessage",
                direction=direction,
                frame=batch,
            )

        if not core.first("JSONRPCBatchRequest"):
            raise fail(f"JSON-RPC batches are not allowed in MCP {version}")
        if not batch:
            raise fail("an empty array is not a valid JSON-RPC batch")
        calls = isinstance(batch[0], Mapping) and "method" in batch[0]
        kind = "JSONRPCBatchRequest" if calls else "JSONRPCBatchResponse"
        # The null-id relaxation of `_check_error` applies inside batches too.
        whole = [_null_id_as_zero(element) for element in batch]
        self._validate(whole, direction, version, (core, kind))
        for index, element in enumerate(batch):
            try:
                self._check_message(element, direction)
            except FrameSchemaError as exc:
                raise exc.in_batch(index, batch) from None

    def _check_message(self, message: Any, direction: Direction) -> None:
        if isinstance(message, Mapping) and isinstance(message.get("method"), str):
            self._check_call(message, direction)
        elif (
            isinstance(message, Mapping)
            and "method" not in message
            and ("result" in message or "error" in message)
        ):
            self._check_response(message, direction)
        else:
            version = self.version
            core = self._lib.versions[version].core
            self._validate(message, direction, version, (core, "JSONRPCMessage"))
            raise FrameSchemaError(
                "not a JSON-RPC request, notification or response",
                version=version,
                definition="JSONRPCMessage",
                direction=direction,
                frame=message,
            )

    # --- requests and notifications ---

    def _check_call(self, message: Mapping[str, Any], direction: Direction) -> None:
        method: str = message["method"]
        is_request = "id" in message
        version, note = self._call_version(message, method, is_request)
        spec = self._lib.versions[version]
        target = self._call_target(spec, message, direction, is_request)
        envelope = "JSONRPCRequest" if is_request else "JSONRPCNotification"
        self._validate(message, direction, version, (spec.core, envelope))
        if target is not None:
            self._validate(message, direction, version, target)
        else:
            note = note or f"{method!r} is not defined in MCP {version}"
        outcome: Outcome = "checked" if target is not None else "envelope-only"
        name = target[1] if target is not None else envelope
        self.records.append(FrameRecord(direction, outcome, version, name, method, note))
        if is_request:
            self._pending[direction, _id_key(message["id"])] = _Pending(method, version, target)

    def _call_version(
        self, message: Mapping[str, Any], method: str, is_request: bool
    ) -> tuple[str, str]:
        """The version a request or notification is checked against, and a note about it."""
        named = _meta_version(message)
        if named is not None:
            known = named in self._lib.versions
            newest_modern = self._lib.modern[-1] if self._lib.modern else self.version
            self._modern = named if known else newest_modern
            return self._modern, "" if known else f"unknown version {named!r} named"
        if is_request and method == "initialize":
            params = message.get("params")
            asked = params.get("protocolVersion") if isinstance(params, Mapping) else None
            if asked in self._lib.legacy:
                return str(asked), ""
            fallback = self._lib.legacy[-1] if self._lib.legacy else self.version
            return fallback, f"initialize asked for unknown version {asked!r}"
        return self.version, ""

    def _call_target(
        self, spec: _Version, message: Mapping[str, Any], direction: Direction, is_request: bool
    ) -> Target | None:
        """The definition for a call, None for a method the version does not know at all."""
        method: str = message["method"]
        name = spec.calls[direction, is_request].get(method)
        if name is not None:
            return spec.core, name
        found = spec.ext_calls[is_request].get(method)
        if found is not None:
            return found
        places = [
            f"a {_ARROW[way]} {'request' if req else 'notification'}"
            for (way, req), table in spec.calls.items()
            if method in table
        ]
        places += [
            f"an extension {'request' if req else 'notification'} ({table[method][1]})"
            for req, table in spec.ext_calls.items()
            if method in table
        ]
        if not places and method not in spec.methods:
            return None
        kind = "request" if is_request else "notification"
        where = " and ".join(places) or "only a type inside other messages, not a message"
        raise FrameSchemaError(
            f"{method!r} is not a {_ARROW[direction]} {kind} in MCP {spec.name}; "
            f"the schema has it as {where}",
            version=spec.name,
            definition=spec.methods.get(method, "an extension definition"),
            direction=direction,
            frame=message,
        )

    # --- responses ---

    def _check_response(self, message: Mapping[str, Any], direction: Direction) -> None:
        key = (_OTHER[direction], _id_key(message.get("id")))
        pending = self._pending.get(key) if "id" in message else None
        version = pending.version if pending is not None else self.version
        if "result" in message and "error" in message:
            raise FrameSchemaError(
                "a response carries either `result` or `error`, never both",
                version=version,
                definition="JSON-RPC 2.0",
                direction=direction,
                frame=message,
            )
        if "error" in message:
            self._check_error(message, direction, version, pending)
        else:
            self._check_result(message, direction, pending)

    def _check_error(
        self,
        message: Mapping[str, Any],
        direction: Direction,
        version: str,
        pending: _Pending | None,
    ) -> None:
        """Check an error response.

        JSON-RPC 2.0 answers a request whose id could not be read with `"id": null`. Schemas
        before 2025-11-25 require a string or integer id, so they cannot express that answer;
        there a null id is accepted (and noted). Later schemas make `id` optional: omit it.
        """
        core = self._lib.versions[version].core
        name = core.first("JSONRPCErrorResponse", "JSONRPCError") or "JSONRPCMessage"
        note = ""
        if message.get("id", 0) is None and "id" in core.defs[name].get("required", ()):
            message, note = {**message, "id": 0}, "null id accepted: this schema cannot say it"
        self._validate(message, direction, version, (core, name))
        method = pending.method if pending is not None else None
        self.records.append(FrameRecord(direction, "checked", version, name, method, note))

    def _check_result(
        self, message: Mapping[str, Any], direction: Direction, pending: _Pending | None
    ) -> None:
        if pending is None:
            version, note = self.version, "no request with this id was seen"
        else:
            version, note = self._result_version(message, pending)
        spec = self._lib.versions[version]
        envelope = spec.core.first("JSONRPCResultResponse", "JSONRPCResponse") or "JSONRPCMessage"
        whole, result = self._result_targets(spec, pending, message.get("result"))
        if result is not None:  # first: its errors read better than the envelope's anyOf
            self._validate(message["result"], direction, version, result, frame=message)
        self._validate(message, direction, version, whole or (spec.core, envelope))
        named = whole or result
        outcome: Outcome = "checked" if named is not None else "envelope-only"
        name = named[1] if named is not None else envelope
        if outcome == "envelope-only" and pending is not None:
            note = note or f"the request's method {pending.method!r} is not in MCP {version}"
        method = pending.method if pending is not None else None
        self.records.append(FrameRecord(direction, outcome, version, name, method, note))

    def _result_version(self, message: Mapping[str, Any], pending: _Pending) -> tuple[str, str]:
        """A response's version; the `initialize` response also sets the session version."""
        if pending.method != "initialize" or pending.target is None:
            return pending.version, ""
        result = message.get("result")
        chosen = result.get("protocolVersion") if isinstance(result, Mapping) else None
        if chosen in self._lib.versions:
            self._negotiated = str(chosen)
            return self._negotiated, ""
        self._negotiated = pending.version
        return pending.version, f"server chose unknown version {chosen!r}"

    def _result_targets(
        self, spec: _Version, pending: _Pending | None, result: Any
    ) -> tuple[Target | None, Target | None]:
        """(definition for the whole response, definition for just its `result`).

        Modern `<X>ResultResponse` envelopes allow `InputRequiredResult | <X>Result`, and as
        `InputRequiredResult` requires nothing but a `resultType` string, anything with one
        would pass. So the `result` is also checked against the branch `resultType` names.
        """
        if pending is None or pending.target is None:
            return None, None
        doc, request = pending.target
        stem = request.removesuffix("Request")
        whole = (doc, f"{stem}ResultResponse") if doc.first(f"{stem}ResultResponse") else None
        resumable = isinstance(result, Mapping) and result.get("resultType") == "input_required"
        if resumable and spec.core.first("InputRequiredResult"):
            return whole, (spec.core, "InputRequiredResult")
        name = doc.first(f"{stem}Result", "EmptyResult", "Result")
        if name is None:
            doc, name = spec.core, spec.core.first("EmptyResult", "Result")
        return whole, (doc, name) if name is not None else None

    # --- the one place a schema is applied ---

    def _validate(
        self,
        instance: Any,
        direction: Direction,
        version: str,
        target: Target,
        *,
        frame: Any = None,
    ) -> None:
        """Raise FrameSchemaError if `instance` does not match `target`.

        With `frame` given, `instance` is the `result` of that frame (paths say so).
        """
        doc, name = target
        error = self._lib.first_error(doc, name, instance)
        if error is None:
            return
        path = str(error.json_path)
        raise FrameSchemaError(
            str(error.message),
            version=version,
            definition=name,
            direction=direction,
            frame=instance if frame is None else frame,
            path=path if frame is None else "$.result" + path[1:],
        )


def _null_id_as_zero(element: Any) -> Any:
    if isinstance(element, Mapping) and "error" in element and element.get("id", 0) is None:
        return {**element, "id": 0}
    return element
