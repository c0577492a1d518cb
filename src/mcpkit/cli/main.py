"""The `mcpkit` command line.

Layer: applications (cli). Built only on the public API. Imports stay lazy so that
`mcpkit --version` and a stdio server's start-up do not pay for what they do not use.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mcpkit._version import __version__

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = _parser().parse_args(argv)
    if args.command == "ping":
        return _ping(args.server, args.era)
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


if __name__ == "__main__":
    sys.exit(main())
