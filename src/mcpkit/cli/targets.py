"""Find the server a command line names: `mcpkit run TARGET` and `mcpkit server NAME`.

Layer: applications (cli). Public API only (`mcpkit.server`, `mcpkit.servers`).

A target is `path/to/file.py[:object]` or `package.module[:object]`. The object is a dotted
attribute path; without one, the module's `server`, else its only `Server` instance. The
object may be a `Server` or a function returning one (a factory). Anything that cannot be
found or is not a server is a `TargetError` whose message says what to fix; the command
line prints it and exits with status 2. Errors inside the user's own module propagate with
their traceback: they are the user's bug, not a bad target.

While the target is imported (and its factory called) `sys.stdout` points at stderr: a
stray `print` at import time would otherwise corrupt the stdio protocol stream before the
server has taken stdout over.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import os
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from mcpkit.server import Server

__all__ = ["TargetError", "load_named", "load_target", "split_target"]

_ATTRIBUTE: Final = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


class TargetError(Exception):
    """The named server cannot be loaded; the message says why and what to do."""


def split_target(target: str) -> tuple[str, str | None]:
    """`(location, object)` of a target; `object` is None when the target names none.

    Only a trailing `:dotted.name` is an object, so `C:\\srv\\app.py` stays a path.
    """
    location, sep, attribute = target.rpartition(":")
    if sep and location and _ATTRIBUTE.match(attribute):
        return location, attribute
    return target, None


def _is_file(location: str) -> bool:
    return location.endswith(".py") or os.sep in location or "/" in location


def load_target(target: str) -> Server:
    """The server a target names.

    Raises:
        TargetError: no such file, module or object, or the object is not a server.
    """
    location, attribute = split_target(target)
    with contextlib.redirect_stdout(sys.stderr):
        module = _import_file(location) if _is_file(location) else _import_module(location)
        found = _pick(module, location, attribute)
        return _as_server(found, target)


def load_named(name: str) -> Server:
    """A pre-built server by its name in `mcpkit.servers.SERVERS`.

    Raises:
        TargetError: no pre-built server has that name (the message lists those that do).
    """
    from mcpkit.servers import SERVERS

    target = SERVERS.get(name)
    if target is None:
        available = ", ".join(sorted(SERVERS))
        raise TargetError(f"unknown server {name!r}; available: {available}")
    return load_target(target)


def _import_file(location: str) -> ModuleType:
    path = Path(location)
    if not path.is_file():
        raise TargetError(f"no such file: {location}")
    stem = path.stem
    name = stem if stem.isidentifier() and stem not in sys.modules else "_mcpkit_target"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise TargetError(f"cannot load {location} as Python source")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.resolve().parent))  # its siblings import, as with `python file`
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _import_module(location: str) -> ModuleType:
    if not _ATTRIBUTE.match(location):
        raise TargetError(f"{location!r} is neither a .py file nor a module name")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # modules in the current folder, as with `python -m`
    try:
        return importlib.import_module(location)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if location == missing or location.startswith(missing + "."):
            raise TargetError(f"no module named {location!r}") from None
        raise


def _pick(module: ModuleType, location: str, attribute: str | None) -> Any:
    from mcpkit.server import Server

    if attribute is not None:
        found: Any = module
        for part in attribute.split("."):
            if not hasattr(found, part):
                raise TargetError(f"{location} has no object {attribute!r}")
            found = getattr(found, part)
        return found
    if hasattr(module, "server"):
        return module.server
    servers = sorted(n for n, v in vars(module).items() if isinstance(v, Server))
    if len(servers) == 1:
        return getattr(module, servers[0])
    if not servers:
        raise TargetError(f"{location} has no Server; name the object: {location}:OBJECT")
    raise TargetError(
        f"{location} has several servers ({', '.join(servers)}); name one: {location}:OBJECT"
    )


def _as_server(found: Any, target: str) -> Server:
    from mcpkit.server import Server

    if isinstance(found, Server):
        return found
    if not callable(found):
        raise TargetError(f"{target} is a {type(found).__name__}, not an mcpkit Server")
    made = found()
    if inspect.iscoroutine(made):
        made.close()
        raise TargetError(f"{target} is an async function; a factory must return a Server")
    if not isinstance(made, Server):
        raise TargetError(f"{target}() returned a {type(made).__name__}, not an mcpkit Server")
    return made
