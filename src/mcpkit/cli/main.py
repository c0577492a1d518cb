"""The `mcpkit` command line.

Layer: applications (cli). Built only on the public API. Imports stay lazy so that
`mcpkit --version` and a stdio server's start-up do not pay for what they do not use.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from mcpkit._version import __version__

if TYPE_CHECKING:
    from mcpkit.server import Server

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcpkit", description="The Model Context Protocol, in Python."
    )
    parser.add_argument("--version", action="version", version=f"mcpkit {__version__}")
    sub = parser.add_subparsers(dest="command")
    ping = sub.add_parser("ping", help="connect to a stdio server command and ping it")
    ping.add_argument("server", help="the server command line, in one quoted argument")
    ping.add_argument("--era", choices=["auto", "legacy", "modern"], default="auto")
    run = sub.add_parser("run", help="run a server defined in a Python file or module")
    run.add_argument(
        "target",
        help="path/to/file.py[:object] or package.module[:object]; the object is a Server or "
        "a function returning one (default: `server`, or the module's only Server)",
    )
    _transport_option(run)
    server = sub.add_parser("server", help="run a pre-built server (e.g. `everything`)")
    server.add_argument("name", help="the pre-built server's name")
    _transport_option(server)
    return parser


def _transport_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--transport", choices=["stdio"], default="stdio", help="how to serve (default: stdio)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = _parser().parse_args(argv)
    if args.command == "ping":
        return _ping(args.server, args.era)
    if args.command in ("run", "server"):
        from mcpkit.cli import targets

        if args.command == "run":
            return _serve(lambda: targets.load_target(args.target), args.transport)
        return _serve(lambda: targets.load_named(args.name), args.transport)
    _parser().print_help()
    return 0


def _ping(server: str, era: str) -> int:
    import anyio

    from mcpkit.client import Client
    from mcpkit.protocol.errors import MCPKitError

    async def run() -> None:
        async with Client(server, era=era) as client:  # type: ignore[arg-type]
            await client.ping()
            name = client.server_info.get("name", "?")
            era_name = client.era.value if client.era else "?"
            print(f"{name}: pong ({era_name} era, protocol {client.protocol_version})")

    try:
        anyio.run(run)
    except MCPKitError as exc:
        print(f"mcpkit: {exc}", file=sys.stderr)
        return 1
    return 0


def _serve(load: Callable[[], Server], transport: str) -> int:
    """Load a server and serve it until the client hangs up; 2 when it cannot be loaded."""
    from mcpkit.cli.targets import TargetError

    try:
        server = load()
    except TargetError as exc:
        print(f"mcpkit: {exc}", file=sys.stderr)
        return 2
    assert transport == "stdio"  # the only choice argparse allows, for now
    try:
        server.run()
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
