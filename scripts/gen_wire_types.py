"""Generate ``mcpkit.protocol.types`` (typed MCP wire messages) from the official JSON Schemas.

Usage: ``python scripts/gen_wire_types.py`` writes the package; ``--check`` only compares the
files on disk with what would be written and exits 1 (naming the files) when they differ.

The schemas are read from ``tests/spec`` (unmodified copies of the official schemas; override with
``--spec-dir`` or the ``MCPKIT_SPEC_DIR`` environment variable).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from wire_builder import Builder
from wire_render import (
    MARKER,
    Module,
    assign_topics,
    generated_note,
    order_modules,
    relative,
    render_module,
)
from wire_schema import Construct, SchemaSet

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "mcpkit" / "protocol" / "types"
VERSIONS = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"]
LATEST = VERSIONS[-1]
# Extension -> (module, regex on the top-level definition name); the rest go to <extension>.
EXTENSIONS: dict[str, list[tuple[str, str]]] = {
    "tasks": [],
    "apps": [("apps_host", r"^McpUiHost"), ("apps_initialize", r"^McpUiInitiali")],
}
MAX_LINES = 700

SKIPPED = frozenset(
    {
        "JSONRPCRequest",
        "JSONRPCNotification",
        "JSONRPCResponse",
        "JSONRPCResultResponse",
        "JSONRPCErrorResponse",
        "JSONRPCError",
        "JSONRPCMessage",
        "JSONRPCBatchRequest",
        "JSONRPCBatchResponse",
        "ParseError",
        "InvalidRequestError",
        "MethodNotFoundError",
        "InvalidParamsError",
        "InternalError",
        "HeaderMismatchError",
        "MissingRequiredClientCapabilityError",
        "UnsupportedProtocolVersionError",
        "URLElicitationRequiredError",
        "ClientRequest",
        "ServerRequest",
        "ClientNotification",
        "ServerNotification",
        "ClientResult",
        "ServerResult",
    }
)

# (module, regex on the construct's top-level definition name); the first match wins.
CORE_TOPICS: list[tuple[str, str]] = [
    ("capabilities", r"Capabilities$"),
    ("tasks", r"Task"),
    ("content", r"(Content|ContentBlock|ResourceContents|^EmbeddedResource|^ResourceLink)$"),
    ("lifecycle", r"^(Initialize|Initialized|Ping|Discover|Cancelled|Progress)"),
    ("logging", r"^(Logging|SetLevel)"),
    ("completion", r"^(Complete|PromptReference|ResourceTemplateReference|ResourceReference)"),
    ("sampling", r"^(CreateMessage|Sampling|Model|ToolChoice)"),
    ("elicitation", r"(Elicit|EnumSchema$|^(String|Number|Boolean)Schema$|^PrimitiveSchema)"),
    ("input", r"^Input"),
    ("roots", r"Root"),
    ("subscriptions", r"^Subscri"),
    ("tools", r"Tool"),
    ("prompts", r"Prompt"),
    ("resources", r"Resource|^(Subscribe|Unsubscribe)"),
    ("notifications", r"Notification"),
]
CORE_ORDER = [
    "base",
    "content",
    "capabilities",
    "tasks",
    "lifecycle",
    "logging",
    "tools",
    "resources",
    "prompts",
    "completion",
    "roots",
    "sampling",
    "elicitation",
    "input",
    "subscriptions",
    "notifications",
]
TITLES = {
    "base": "base types (results, errors, metadata, ids)",
    "content": "content blocks and resource contents",
    "capabilities": "client and server capabilities",
    "tasks": "tasks (2025-11-25)",
    "lifecycle": "lifecycle (initialize, discover, ping, cancel, progress)",
    "logging": "logging",
    "tools": "tools",
    "resources": "resources",
    "prompts": "prompts",
    "completion": "completion",
    "roots": "roots",
    "sampling": "sampling",
    "elicitation": "elicitation",
    "input": "input requests and responses (multi round-trip requests)",
    "subscriptions": "subscriptions",
    "notifications": "notifications",
    "extensions.tasks": "the tasks extension (io.modelcontextprotocol/tasks)",
    "extensions.apps": "the MCP Apps extension (io.modelcontextprotocol/ui), messages",
    "extensions.apps_host": "the MCP Apps extension, host capabilities, context and styles",
    "extensions.apps_initialize": "the MCP Apps extension, the ui/initialize handshake",
}


def spec_dir(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    env = os.environ.get("MCPKIT_SPEC_DIR")
    return Path(env) if env else ROOT / "tests" / "spec"


def load_defs(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    defs: dict[str, Any] = doc.get("$defs") or doc.get("definitions") or {}
    return defs


def core_sources() -> str:
    return f"tests/spec/<version>/schema.json for {', '.join(VERSIONS)}"


def build_core(spec: Path) -> tuple[dict[str, Construct], SchemaSet]:
    defs = {v: load_defs(spec / v / "schema.json") for v in VERSIONS}
    schemas = SchemaSet(defs, list(VERSIONS))
    names = {n for d in defs.values() for n in d if n not in SKIPPED}
    names = {n for n in names if not n.endswith("ResultResponse")}
    builder = Builder(schemas, skip=SKIPPED | {n for d in defs.values() for n in d} - names)
    return builder.build(names), schemas


def build_extension(
    spec: Path, name: str, core: dict[str, Construct], latest: set[str]
) -> dict[str, Construct]:
    defs = load_defs(spec / LATEST / "extensions" / name / "schema.json")
    schemas = SchemaSet({"ext": defs}, ["ext"])
    external = {n: c for n, c in core.items() if n in latest}
    skip = frozenset(latest - external.keys())
    builder = Builder(schemas, external=external, skip=skip)
    return builder.build(n for n in defs if n not in latest)


def core_modules(core: dict[str, Construct]) -> list[Module]:
    topics = assign_topics(core, CORE_TOPICS, "base")
    order = order_modules(core, topics, CORE_ORDER)
    modules = [Module(t, TITLES[t], core_sources()) for t in order]
    by_path = {m.path: m for m in modules}
    for name in sorted(core):
        by_path[topics[name]].constructs.append(core[name])
    return modules


def extension_modules(name: str, constructs: dict[str, Construct]) -> list[Module]:
    source = f"tests/spec/{LATEST}/extensions/{name}/schema.json"
    rules = [(f"extensions.{t}", rx) for t, rx in EXTENSIONS[name]]
    topics = assign_topics(constructs, rules, f"extensions.{name}")
    order = order_modules(constructs, topics, [f"extensions.{name}", *(t for t, _ in rules)])
    modules = [Module(t, TITLES[t], source) for t in order]
    by_path = {m.path: m for m in modules}
    for construct_name in sorted(constructs):
        by_path[topics[construct_name]].constructs.append(constructs[construct_name])
    return modules


VersionTable = dict[str, set[str]]


def version_sets(defs: dict[str, dict[str, Any]]) -> tuple[VersionTable, VersionTable]:
    constructs: VersionTable = {}
    methods: VersionTable = {}
    for version, names in defs.items():
        for name in names:
            constructs.setdefault(name, set()).add(version)
        for method in find_methods(names):
            methods.setdefault(method, set()).add(version)
    return constructs, methods


def find_methods(node: Any) -> set[str]:
    """Every ``const`` of a ``method`` property anywhere below ``node``."""
    found: set[str] = set()
    if isinstance(node, dict):
        method = node.get("properties", {}).get("method") if "properties" in node else None
        if isinstance(method, dict) and isinstance(method.get("const"), str):
            found.add(method["const"])
        for value in node.values():
            found |= find_methods(value)
    elif isinstance(node, list):
        for value in node:
            found |= find_methods(value)
    return found


def set_name(versions: set[str]) -> str:
    ordered = [v for v in VERSIONS if v in versions]
    first, last = ordered[0].replace("-", "_"), ordered[-1].replace("-", "_")
    contiguous = VERSIONS[VERSIONS.index(ordered[0]) :][: len(ordered)] == ordered
    if len(ordered) == len(VERSIONS):
        return "_ALL"
    if len(ordered) == 1:
        return f"_ONLY_{first}"
    if contiguous and ordered[-1] == LATEST:
        return f"_SINCE_{first}"
    if contiguous:
        return f"_FROM_{first}_TO_{last}"
    return "_IN_" + "_AND_".join(v.replace("-", "_") for v in ordered)


def render_versions(schemas: SchemaSet) -> str:
    constructs, methods = version_sets(schemas.defs)
    sets = {set_name(s): s for s in [*constructs.values(), *methods.values()]}
    lines = [
        '"""Which MCP schema versions define each construct and each JSON-RPC method (data only).',
        "",
        *generated_note(core_sources()),
        '"""',
        "",
        f"VERSIONS: tuple[str, ...] = ({', '.join(json.dumps(v) for v in VERSIONS)})",
        "",
    ]
    for name in sorted(sets):
        members = ", ".join(json.dumps(v) for v in VERSIONS if v in sets[name])
        lines.append(f"{name} = frozenset({{{members}}})")
    for title, table in (("CONSTRUCT_VERSIONS", constructs), ("METHOD_VERSIONS", methods)):
        lines += ["", f"{title}: dict[str, frozenset[str]] = {{"]
        lines += [f"    {json.dumps(k)}: {set_name(table[k])}," for k in sorted(table)]
        lines.append("}")
    return "\n".join(lines) + "\n"


def render_init(modules: list[Module]) -> str:
    lines = [
        '"""Typed MCP wire messages, one msgspec Struct or alias per schema construct.',
        "",
        *generated_note(core_sources()),
        '"""',
        "",
    ]
    exported: list[str] = ["WireStruct"]
    for module in modules:
        names = sorted(c.name for c in module.constructs)
        if module.path == "base":
            names = ["WireStruct", *names]
        if names:
            lines.append(f"from {relative('__init__', module.path)} import {', '.join(names)}")
            exported += [n for n in names if n != "WireStruct"]
    lines += ["", "__all__ = [", *(f"    {json.dumps(n)}," for n in sorted(exported)), "]"]
    return "\n".join(lines) + "\n"


def render_all(spec: Path) -> dict[Path, str]:
    """Every generated file (path -> unformatted source)."""
    core, schemas = build_core(spec)
    latest = set(schemas.defs[LATEST])
    modules = core_modules(core)
    home = {c.name: m.path for m in modules for c in m.constructs}
    files = {PACKAGE / f"{m.path}.py": render_module(m, home) for m in modules}
    files[PACKAGE / "__init__.py"] = render_init(modules)
    files[PACKAGE / "versions.py"] = render_versions(schemas)
    files[PACKAGE / "extensions" / "__init__.py"] = (
        f'"""MCP extension wire types.\n\n{MARKER}; do not edit."""\n'
    )
    for ext in EXTENSIONS:
        ext_modules = extension_modules(ext, build_extension(spec, ext, core, latest))
        ext_home = {**home, **{c.name: m.path for m in ext_modules for c in m.constructs}}
        for module in ext_modules:
            path = PACKAGE.joinpath(*module.path.split(".")).with_suffix(".py")
            files[path] = render_module(module, ext_home)
    return files


def ruff(args: list[str], path: Path, source: str) -> str:
    """Run ruff on ``source`` as if it were the file at ``path`` (project config applies)."""
    done = subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--stdin-filename", str(path), "-"],
        input=source,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"ruff {args[0]} failed on {path}:\n{done.stdout}{done.stderr}")
    return done.stdout


def ruff_format(path: Path, source: str) -> str:
    """Sort the imports (``ruff check --fix --select I``), then ``ruff format``."""
    sorted_imports = ruff(["check", "--fix", "--select", "I", "--quiet"], path, source)
    return ruff(["format", "--quiet"], path, sorted_imports)


def generate(spec: Path) -> dict[Path, str]:
    files = {path: ruff_format(path, text) for path, text in render_all(spec).items()}
    for path, text in files.items():
        count = text.count("\n")
        if count > MAX_LINES:
            raise RuntimeError(f"{path.relative_to(ROOT)} has {count} lines (max {MAX_LINES})")
    return files


def stale_files(files: dict[Path, str]) -> list[Path]:
    """Generated files on disk that this run would not write."""
    existing = sorted(PACKAGE.rglob("*.py")) if PACKAGE.exists() else []
    return [p for p in existing if p not in files and MARKER in p.read_text(encoding="utf-8")]


def check(files: dict[Path, str]) -> int:
    differing = [p for p, text in sorted(files.items()) if not p.exists() or p.read_text() != text]
    problems = [f"differs: {p.relative_to(ROOT)}" for p in differing]
    problems += [f"stale: {p.relative_to(ROOT)}" for p in stale_files(files)]
    for problem in problems:
        print(problem)
    if problems:
        print(f"generated wire types are out of date; run python {MARKER.split()[-1]}")
        return 1
    return 0


def write(files: dict[Path, str]) -> None:
    for path in stale_files(files):
        path.unlink()
    for path, text in sorted(files.items()):
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if output is stale")
    parser.add_argument("--spec-dir", help="folder holding <version>/schema.json")
    args = parser.parse_args(argv)
    spec = spec_dir(args.spec_dir)
    if not (spec / LATEST / "schema.json").is_file():
        print(f"no MCP schemas under {spec}", file=sys.stderr)
        return 2
    files = generate(spec)
    if args.check:
        return check(files)
    write(files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
