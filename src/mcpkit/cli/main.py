"""The `mcpkit` command line.

Layer: applications (cli). Built only on the public API. Imports stay lazy so that
`mcpkit --version` and a stdio server's start-up do not pay for what they do not use.

Serving: `mcpkit run TARGET`, `mcpkit server NAME`. Talking to a server (in `verbs`):
`mcpkit list|call|read|prompt|ping SERVER ...`. Exit status:

    0  success
    1  the tool ran but returned `isError: true`
    2  usage error: bad arguments, unknown config name, bad target
    3  the server answered with a protocol or JSON-RPC error (unknown tool, invalid params)
    4  connection failure: could not start or connect, the server died, or a timeout
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from mcpkit._version import __version__
from mcpkit.cli import verbs

if TYPE_CHECKING:
    from mcpkit.server import Server

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcpkit",
        description="The Model Context Protocol, in Python.",
        epilog=verbs.EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mcpkit {__version__}")
    sub = parser.add_subparsers(dest="command")
    verbs.add_verbs(sub)
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
    _auth_server_parser(sub)
    return parser


def _auth_server_parser(sub: Any) -> None:
    auth = sub.add_parser(
        "auth-server", help="run a development OAuth authorization server (NOT for production)"
    )
    auth.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback)")
    auth.add_argument("--port", type=int, default=9000, help="port (default: 9000)")
    auth.add_argument("--issuer", help="its public URL (default: http://HOST:PORT)")
    auth.add_argument(
        "--auto-approve", action="store_true", help="skip the consent page (tests, conformance)"
    )
    auth.add_argument("--scopes", help="comma-separated scopes it grants")
    auth.add_argument(
        "--client",
        action="append",
        default=[],
        metavar="ID:SECRET:REDIRECT_URI",
        help="pre-register a client (an empty SECRET makes it public); repeatable",
    )


def _auth_server(args: argparse.Namespace) -> int:
    """Serve the development authorization server until interrupted."""
    import uvicorn

    from mcpkit._runtime import run
    from mcpkit.auth.dev_authorization import DevAuthorizationServer

    issuer = args.issuer or f"http://{args.host}:{args.port}"
    scopes = args.scopes.split(",") if args.scopes else None
    dev = DevAuthorizationServer(issuer, auto_approve=args.auto_approve, scopes=scopes)
    for spec in args.client:
        client_id, secret, redirect = [*spec.split(":", 2), "", ""][:3]
        dev.add_client(client_id, secret or None, [redirect] if redirect else [])
    print(
        "mcpkit: DEVELOPMENT authorization server — in memory, no users, NOT FOR PRODUCTION\n"
        f"mcpkit: issuer {issuer}",
        file=sys.stderr,
    )
    config = uvicorn.Config(dev.app, host=args.host, port=args.port, log_level="warning")
    try:
        run(uvicorn.Server(config).serve)
    except KeyboardInterrupt:
        return 130
    return 0


def _transport_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--transport",
        choices=["stdio", "http"],
        default="stdio",
        help="how to serve (default: stdio; http: Streamable HTTP at http://HOST:PORT/mcp, "
        "and the old HTTP+SSE transport at /sse)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default: loopback)")
    parser.add_argument("--port", type=int, default=8000, help="HTTP port (default: 8000)")
    parser.add_argument(
        "--json-response", action="store_true", help="HTTP: answer with JSON instead of SSE"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not verbs.take_pairs(args, extra):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command in verbs.VERBS:
        return verbs.run_verb(args)
    if args.command == "auth-server":
        return _auth_server(args)
    if args.command in ("run", "server"):
        from mcpkit.cli import targets

        if args.command == "run":
            return _serve(lambda: targets.load_target(args.target), args)
        return _serve(lambda: targets.load_named(args.name), args)
    _parser().print_help()
    return 0


def _serve(load: Callable[[], Server], args: argparse.Namespace) -> int:
    """Load a server and serve it (stdio: until the client hangs up; http: until
    interrupted); 2 when it cannot be loaded."""
    from mcpkit.cli.targets import TargetError

    try:
        server = load()
    except TargetError as exc:
        print(f"mcpkit: {exc}", file=sys.stderr)
        return 2
    try:
        if args.transport == "http":
            _serve_http(server, args)
        else:
            server.run()
    except KeyboardInterrupt:
        return 130
    return 0


def _serve_http(server: Server, args: argparse.Namespace) -> None:
    from mcpkit._runtime import run
    from mcpkit.server.http import serve_http

    base = f"http://{args.host}:{args.port}"
    print(f"mcpkit: serving on {base}/mcp (HTTP+SSE clients: {base}/sse)", file=sys.stderr)
    # Host checks follow the bind: loopback names only on a loopback bind (DNS rebinding).
    json_response = args.json_response
    run(lambda: serve_http(server, args.host, args.port, json_response=json_response))


if __name__ == "__main__":
    sys.exit(main())
