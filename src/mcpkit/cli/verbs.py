"""The client verbs of the command line: `list`, `call`, `read`, `prompt` and `ping`.

Layer: applications (cli); may import everything, but only inside functions, so that
`mcpkit --version` and `mcpkit run` load none of the client (nor `rich`, see `render`).

Each verb connects to one SERVER (resolved by `servers`), sends its requests, and prints the
result for a person (`render`) or, with `--json`, as exactly one JSON document on stdout in
its wire form. While connected, stdout points at stderr: an in-process server's stray
`print` must not end up inside the JSON.

Exit status (also shown by `mcpkit --help`):

    0  success
    1  the tool ran but returned `isError: true`
    2  usage error: bad arguments, unknown config name, bad target
    3  the server answered with a protocol or JSON-RPC error (unknown tool, invalid params)
    4  connection failure: could not start or connect, the server died, or a timeout

Failures print one `mcpkit: ...` line to stderr (followed by the server's stderr tail when
the error carries one), never a traceback; exception groups are unwrapped first.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcpkit.client import Client

__all__ = ["EXIT_CODES", "VERBS", "add_verbs", "run_verb", "take_pairs"]

EXIT_CODES = """\
exit status:
  0  success
  1  the tool ran but returned isError: true
  2  usage error: bad arguments, unknown config name, bad target
  3  the server answered with a protocol or JSON-RPC error (unknown tool, invalid params)
  4  connection failure: could not start or connect, the server died, or a timeout
"""

SERVER_HELP = (
    "a name from --config, a path/to/server.py[:object] or module:object (run in-process), "
    "or a server command line in one quoted argument (spawned over stdio)"
)
VERBS = ("list", "call", "read", "prompt", "ping")
_KINDS = {
    "tools": "tools",
    "resources": "resources",
    "templates": "resourceTemplates",
    "prompts": "prompts",
}
_CAPABILITY = {"resourceTemplates": "resources"}  # which server capability offers a list

Action = Callable[["Client"], Awaitable[Any]]


# ---- the parser ------------------------------------------------------------------------


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("server", metavar="SERVER", help=SERVER_HELP)
    common.add_argument("--config", metavar="FILE", help="a host config file (mcpServers)")
    common.add_argument("--era", choices=["auto", "legacy", "modern"], default="auto")
    common.add_argument(
        "--timeout", type=_seconds, metavar="SECONDS", help="for the start and for each answer"
    )
    common.add_argument("--json", action="store_true", help="print the result as JSON")
    common.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE", help="for spawned servers"
    )
    return common


def add_verbs(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the client verbs to the `mcpkit` parser's subcommands."""
    common = _common()

    def verb(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            parents=[common],
            help=help,
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    verb("list", "list what a server offers").add_argument(
        "kind", nargs="?", choices=list(_KINDS), help="default: all the server offers"
    )
    call = verb("call", "call a tool")
    call.add_argument("tool", metavar="TOOL")
    _arguments_options(call)
    verb("read", "read a resource").add_argument("uri", metavar="URI")
    prompt = verb("prompt", "get a prompt")
    prompt.add_argument("prompt", metavar="NAME")
    _arguments_options(prompt)
    verb("ping", "connect to a server and ping it")


def _arguments_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "pairs",
        nargs="*",
        metavar="key=value",
        help="an argument; the value is JSON when it parses as JSON, else text",
    )
    parser.add_argument("--args", metavar="JSON", help="arguments as a JSON object")


def take_pairs(args: argparse.Namespace, extra: list[str]) -> bool:
    """Adopt `key=value` pairs that came after an option (`call S T --json a=1`), which
    argparse leaves over; False when `extra` holds anything else."""
    if not hasattr(args, "pairs") or any(x.startswith("-") or "=" not in x for x in extra):
        return False
    args.pairs = [*args.pairs, *extra]
    return True


# ---- running a verb --------------------------------------------------------------------


def run_verb(args: argparse.Namespace) -> int:
    """Run the verb `args.command`; returns the exit status (see the module docstring)."""
    try:
        return _run(args)
    except KeyboardInterrupt:
        return 130
    except (Exception, BaseExceptionGroup) as exc:  # every failure: one line and a status
        status, message = _failure(exc)
        print(f"mcpkit: {message}", file=sys.stderr)
        return status


def _run(args: argparse.Namespace) -> int:
    import anyio

    from mcpkit.cli.servers import ServerOptions, open_client, parse_env

    action = _action(args)
    options = ServerOptions(args.config, args.era, args.timeout, parse_env(args.env))
    client = open_client(args.server, options)

    async def session() -> Any:
        async with client:
            return await action(client)

    with contextlib.redirect_stdout(sys.stderr):
        data = anyio.run(session)
    _show(args, data)
    return 1 if args.command == "call" and data.get("isError") is True else 0


def _action(args: argparse.Namespace) -> Action:
    """What the verb does once connected; arguments are checked before connecting."""
    from mcpkit.cli import arguments

    if args.command == "list":
        return _list([_KINDS[args.kind]] if args.kind else None)
    if args.command == "call":
        arguments.merge_arguments(args.pairs, args.args)
        return _call(args.tool, args.pairs, args.args)
    if args.command == "read":
        return _wire(lambda client: client.read_resource(args.uri))
    if args.command == "prompt":
        values = arguments.prompt_arguments(args.pairs, args.args)
        return _wire(lambda client: client.get_prompt(args.prompt, values))
    return _ping


def _wire(request: Callable[[Client], Awaitable[Any]]) -> Action:
    async def act(client: Client) -> Any:
        import msgspec

        return msgspec.to_builtins(await request(client))

    return act


def _list(kinds: list[str] | None) -> Action:
    async def act(client: Client) -> dict[str, Any]:
        import msgspec

        offered = client.server_capabilities
        wanted = kinds or [k for k in _KINDS.values() if _CAPABILITY.get(k, k) in offered]
        readers = {
            "tools": client.list_tools,
            "resources": client.list_resources,
            "resourceTemplates": client.list_resource_templates,
            "prompts": client.list_prompts,
        }
        return {kind: msgspec.to_builtins(await readers[kind]()) for kind in wanted}

    return act


def _call(tool: str, pairs: list[str], document: str | None) -> Action:
    async def act(client: Client) -> Any:
        import msgspec

        from mcpkit.cli.arguments import merge_arguments, string_properties

        schema: dict[str, Any] = {}
        if "tools" in client.server_capabilities:
            found = [t for t in await client.list_tools() if t.name == tool]
            schema = found[0].input_schema if found else {}
        values = merge_arguments(pairs, document, keep_text=string_properties(schema))
        return msgspec.to_builtins(await client.call_tool(tool, values))

    return act


async def _ping(client: Client) -> dict[str, Any]:
    await client.ping()
    return {
        "serverInfo": client.server_info,
        "era": client.era.value if client.era else None,
        "protocolVersion": client.protocol_version,
    }


def _show(args: argparse.Namespace, data: Any) -> None:
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return
    from mcpkit.cli import render

    printers: dict[str, Callable[[Any], None]] = {
        "list": render.print_listing,
        "call": render.print_tool_result,
        "read": render.print_resource,
        "prompt": render.print_prompt,
        "ping": render.print_pong,
    }
    printers[args.command](data)


# ---- failures --------------------------------------------------------------------------


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def _leaf(exc: BaseException) -> BaseException:
    """The exception that explains a group: its first mcpkit error, else its first leaf."""
    from mcpkit.protocol.errors import MCPKitError

    leaves = _leaves(exc)
    return next((leaf for leaf in leaves if isinstance(leaf, MCPKitError)), leaves[0])


def _failure(exc: BaseException) -> tuple[int, str]:
    """The exit status and the message for a failure."""
    from mcpkit.cli.arguments import ArgumentError
    from mcpkit.cli.servers import UsageError
    from mcpkit.protocol import errors

    exc = _leaf(exc)
    if isinstance(exc, KeyboardInterrupt):
        return 130, "interrupted"
    if isinstance(exc, UsageError | ArgumentError):
        return 2, str(exc)
    if isinstance(exc, errors.TransportError | errors.RequestTimeout | errors.RequestCancelled):
        return 4, str(exc) or type(exc).__name__
    if isinstance(exc, errors.RPCError):
        return 3, f"the server answered with an error: {exc}"
    if isinstance(exc, errors.MCPKitError):
        return 3, str(exc)
    return 3, f"unexpected {type(exc).__name__}: {exc}"
