"""The project's habits, checked: size budgets, import layers, import hygiene, `__all__`.

Layer: tests. These are rules of the codebase rather than of the protocol: code stays small
enough to read, lower layers never reach up, `import mcpkit` stays light and side-effect free,
and `__all__` says what the package really exports. They read source with `ast` where they can
and import in a fresh interpreter where they must see what loading does. A layer that does not
exist yet has nothing to check; nothing here is skipped.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = SRC / "mcpkit"

MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 80

# Which mcpkit subpackages (or top-level modules) each one may import; "" is the package root,
# the application-facing facade. A subpackage or module missing from the table is an error:
# add it. Top-level private modules (`mcpkit._version`) are leaves anyone may import.
LAYERS: dict[str, frozenset[str]] = {
    "protocol": frozenset(),
    "transports": frozenset({"protocol"}),
    "stores": frozenset({"protocol"}),
    "auth": frozenset({"protocol", "transports"}),
    # peer: the async engine running a protocol Connection over a transport
    "peer": frozenset({"protocol", "transports"}),
    "server": frozenset({"protocol", "transports", "peer", "auth", "stores"}),
    "client": frozenset({"protocol", "transports", "peer", "auth", "stores"}),
    "testing": frozenset({"protocol", "transports", "peer", "auth", "stores", "server", "client"}),
    # servers: pre-built servers, on the public API only (never the client)
    "servers": frozenset({"", "protocol", "server"}),
    "cli": frozenset(
        {
            "",
            "protocol",
            "transports",
            "peer",
            "auth",
            "stores",
            "server",
            "client",
            "testing",
            "servers",
        }
    ),
}
LAYERS["__main__"] = LAYERS["cli"] | {"cli"}  # `python -m mcpkit`

PROTOCOL_MUST_NOT_LOAD: tuple[str, ...] = ("anyio", "httpx", "starlette", "uvicorn")
PROTOCOL_MUST_NOT_LOAD += ("asyncio", "socket", "subprocess", "logging")
ROOT_MUST_NOT_LOAD = ("httpx", "starlette", "uvicorn", "pydantic")


def python_files(*folders: Path) -> Iterator[Path]:
    for folder in folders:
        if folder.is_dir():
            yield from sorted(folder.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def run_fresh(code: str) -> dict[str, list[str]]:
    """Run `code` in a new interpreter; it prints one JSON object, which is returned."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- size budget ------------------------------------------------------------------------------


def test_modules_fit_the_size_budget() -> None:
    too_long = [
        f"{path.relative_to(ROOT)}: {lines} lines"
        for path in python_files(SRC, ROOT / "scripts", ROOT / "bench")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    assert not too_long, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(too_long)


def test_functions_fit_the_size_budget() -> None:
    too_long = []
    for path in python_files(SRC, ROOT / "scripts", ROOT / "bench"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    too_long.append(f"{where} {node.name}(): {lines} lines")
    assert not too_long, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(too_long)


# --- import layers ----------------------------------------------------------------------------


def is_leaf(path: Path) -> bool:
    """A top-level private module such as `mcpkit/_version.py` (not a dunder one)."""
    return path.parent == PACKAGE and path.name.startswith("_") and not path.name.startswith("__")


def is_module(dotted: str) -> bool:
    path = SRC.joinpath(*dotted.split("."))
    return path.is_dir() or path.with_suffix(".py").is_file()


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in a file, nested ones included."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = {f"{base}.{a.name}" for a in node.names}  # maybe submodules
            yield from sorted({(node.lineno, t if is_module(t) else base) for t in targets})


def unit_of(dotted: str) -> str | None:
    """The layer an mcpkit module belongs to: "" for the root package, None if not mcpkit."""
    parts = dotted.split(".")
    if parts[0] != "mcpkit":
        return None
    return parts[1] if len(parts) > 1 else ""


def layer_violations() -> Iterator[str]:
    for path in python_files(PACKAGE):
        source = unit_of(module_name(path)) if path.name != "__main__.py" else "__main__"
        if source is None or source == "" or is_leaf(path):
            continue  # the root facade imports anything; leaves are checked below
        if source not in LAYERS:
            yield f"{path.relative_to(ROOT)}: subpackage {source!r} is not in the LAYERS table"
            continue
        for line, target in imported_modules(path):
            unit = unit_of(target)
            if unit is None or unit == source or is_leaf(PACKAGE / f"{unit}.py"):
                continue
            if unit not in LAYERS[source]:
                yield f"{path.relative_to(ROOT)}:{line}: {source} imports {target}"


def test_import_layers() -> None:
    violations = list(layer_violations())
    assert not violations, "imports against the layering:\n" + "\n".join(violations)


def test_top_level_private_modules_are_leaves() -> None:
    leaves = [p for p in sorted(PACKAGE.glob("_*.py")) if is_leaf(p)]
    bad = [
        f"{path.relative_to(ROOT)}:{line}: imports {target}"
        for path in leaves
        for line, target in imported_modules(path)
        if unit_of(target) is not None
    ]
    assert not bad, "top-level private modules must import nothing from mcpkit:\n" + "\n".join(bad)


# --- what importing loads and changes ---------------------------------------------------------

LOADED = """
import importlib, json, pkgutil, sys
before = set(sys.modules)
target = {target!r}
if target.endswith(".*"):
    package = importlib.import_module(target[:-2])
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
else:
    importlib.import_module(target)
new = {{name.partition(".")[0] for name in set(sys.modules) - before}}
print(json.dumps({{"loaded": sorted(new & set({forbidden!r}))}}))
"""


@pytest.mark.parametrize(
    "target", ["mcpkit.protocol", "mcpkit.protocol.types", "mcpkit.protocol.*"]
)
def test_protocol_loads_no_io(target: str) -> None:
    if not is_module(target.removesuffix(".*")):
        return  # nothing to check yet
    code = LOADED.format(target=target, forbidden=PROTOCOL_MUST_NOT_LOAD)
    loaded = run_fresh(code)["loaded"]
    assert not loaded, f"importing {target} loads {', '.join(loaded)}"


def test_root_loads_nothing_heavy() -> None:
    loaded = run_fresh(LOADED.format(target="mcpkit", forbidden=ROOT_MUST_NOT_LOAD))["loaded"]
    assert not loaded, f"`import mcpkit` loads {', '.join(loaded)}; load them lazily"


SIDE_EFFECTS = """
import importlib, json, logging, sys, warnings
def state():
    root = logging.getLogger()
    return {
        "root handlers": [id(h) for h in root.handlers],
        "root level": root.level,
        "lastResort": id(logging.lastResort),
        "logger class": id(logging.getLoggerClass()),
        "logging disabled": logging.root.manager.disable,
        "stdout": id(sys.stdout), "stderr": id(sys.stderr), "stdin": id(sys.stdin),
        "excepthook": id(sys.excepthook),
        "warnings filters": len(warnings.filters),
    }
before = state()
for name in {modules!r}:
    importlib.import_module(name)
after = state()
print(json.dumps({"changed": sorted(k for k in before if before[k] != after[k])}))
"""


def test_importing_has_no_side_effects() -> None:
    modules = ["mcpkit"] + [
        f"mcpkit.{p.name}" for p in sorted(PACKAGE.iterdir()) if (p / "__init__.py").is_file()
    ]
    changed = run_fresh(SIDE_EFFECTS.replace("{modules!r}", repr(modules)))["changed"]
    assert not changed, f"importing {', '.join(modules)} changed: {', '.join(changed)}"


# --- __all__ ----------------------------------------------------------------------------------


def bound_names(body: list[ast.stmt]) -> Iterator[str]:
    """Names a module body binds at top level (inside `if`/`try` too, not in functions)."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                yield alias.asname or alias.name.partition(".")[0]
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield node.name
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                yield from (n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, ast.If | ast.Try):
            yield from bound_names(node.body + node.orelse)
            if isinstance(node, ast.Try):
                yield from bound_names([s for h in node.handlers for s in h.body] + node.finalbody)


@pytest.mark.parametrize("package", ["mcpkit", "mcpkit.protocol"])
def test_all_matches_public_names(package: str) -> None:
    init = SRC.joinpath(*package.split("."), "__init__.py")
    if not init.is_file():
        return  # nothing to check yet
    module = importlib.import_module(package)
    declared = getattr(module, "__all__", None)
    if declared is None:
        assert package != "mcpkit", "mcpkit/__init__.py must define __all__"
        return
    bound = set(bound_names(ast.parse(init.read_text(encoding="utf-8")).body))
    public = {n for n in bound if not n.startswith("_") and not is_module(f"{package}.{n}")}
    assert len(declared) == len(set(declared)), f"{package}.__all__ repeats names"
    missing = sorted(n for n in declared if not hasattr(module, n))
    assert not missing, f"{package}.__all__ names what the package does not have: {missing}"
    unlisted = sorted(public - set(declared))
    assert not unlisted, f"public names of {package} missing from __all__: {unlisted}"
