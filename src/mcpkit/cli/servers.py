"""Which server the SERVER argument of `mcpkit list/call/read/prompt/ping` names.

Layer: applications (cli). Builds an unconnected `Client`; connecting is the caller's
business. Heavy imports (the client, the server framework) happen inside the functions so
that `mcpkit --version` does not load them.

SERVER is tried in this order:

1. a server name from `--config FILE` (any format `load_config` reads);
2. an `http://` or `https://` URL: remote servers, which plug in at `_remote` alone;
3. a `.py` file or `module:object`: an mcpkit server loaded with `mcpkit run`'s loader and
   served in this process (no subprocess, no stdio);
4. anything else is a command line in one quoted argument, split like a shell would and
   spawned over stdio.

A bare word given together with `--config` is taken for a config name, so a typo gets
"unknown server" rather than an attempt to run a program of that name.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcpkit.cli.targets import split_target

if TYPE_CHECKING:
    from mcpkit.auth import OAuth
    from mcpkit.client import Client, EraChoice, ServerConfig

__all__ = ["ServerOptions", "UsageError", "open_client", "parse_env"]

_PROBE_TIMEOUT = 10.0  # the Client's own default for the `server/discover` probe


class UsageError(Exception):
    """The command line is wrong (bad argument, unknown name, bad target): exit status 2."""


@dataclass(frozen=True)
class ServerOptions:
    """The options every verb shares.

    Attributes:
        config: a host config file whose server names SERVER may be.
        era: "auto", "legacy" or "modern".
        timeout: seconds for the server to start and for each answer; None: the defaults.
        env: variables added to a spawned server's environment.
    """

    config: str | None = None
    era: EraChoice = "auto"
    timeout: float | None = None
    env: Mapping[str, str] = field(default_factory=dict)

    def client_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"era": self.era}
        if self.timeout is not None:
            options.update(timeout=self.timeout, max_timeout=self.timeout)
            options.update(start_timeout=self.timeout)
            options["probe_timeout"] = min(_PROBE_TIMEOUT, self.timeout / 2)
        return options


def parse_env(pairs: Sequence[str]) -> dict[str, str]:
    """`--env KEY=VALUE` options as a mapping.

    Raises:
        UsageError: a pair has no `=` or an empty key.
    """
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--env {pair!r} is not KEY=VALUE")
        env[key] = value
    return env


def open_client(server: str, options: ServerOptions) -> Client:
    """An unconnected `Client` for the server SERVER names (see the module docstring).

    Raises:
        UsageError: the config file or name is bad, the URL cannot be served yet, the
            target cannot be loaded, or the command line is empty.
    """
    if options.config is not None:
        client = _from_config(server, options)
        if client is not None:
            return client
    if server.startswith(("http://", "https://")):
        return _remote(server, options)
    if _is_target(server):
        return _in_process(server, options)
    return _spawned(server, options)


def _remote(url: str, options: ServerOptions) -> Client:
    """A server by URL: Streamable HTTP, or HTTP+SSE when the Client falls back to it; a
    server that answers 401 gets the OAuth flow in the browser (`cli_oauth`)."""
    from mcpkit.client import Client

    return Client(url, auth=cli_oauth(), **options.client_options())


def cli_oauth() -> OAuth:
    """OAuth for people at a terminal: the browser step on a loopback port (the URL is
    printed too, for machines without a browser), tokens kept across runs in
    `$XDG_CONFIG_HOME/mcpkit/tokens.json` (mode 0600; `MCPKIT_TOKENS` overrides)."""
    from mcpkit.auth import FileTokenStore, LoopbackRedirect, OAuth

    def show(url: str) -> None:
        import webbrowser

        print(f"Authorize in your browser: {url}", file=sys.stderr)
        webbrowser.open(url)

    config = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    path = os.environ.get("MCPKIT_TOKENS") or os.path.join(config, "mcpkit", "tokens.json")
    return OAuth(
        redirect=LoopbackRedirect(open_browser=show),
        store=FileTokenStore(path),
        client_name="mcpkit CLI",
    )


def _from_config(server: str, options: ServerOptions) -> Client | None:
    from mcpkit.client import ConfigError, load_config

    assert options.config is not None
    try:
        servers = load_config(options.config)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    entry = servers.get(server)
    if entry is None:
        if _is_bare_word(server):
            available = ", ".join(servers) or "none"
            raise UsageError(
                f"unknown server {server!r} in {options.config} (available: {available})"
            )
        return None
    return _configured(entry, options)


def _configured(entry: ServerConfig, options: ServerOptions) -> Client:
    from mcpkit.client import ConfigError

    try:
        if entry.transport != "stdio":
            return entry.to_client(**options.client_options())
        return entry.to_client(env=dict(options.env), **options.client_options())
    except ConfigError as exc:  # the entry cannot become a client
        raise UsageError(str(exc)) from None


def _is_bare_word(server: str) -> bool:
    return not any(mark in server for mark in (" ", "/", ":", "\\", ".py"))


def _is_target(server: str) -> bool:
    """A `.py` file (with an optional `:object`) or `module:object`, never a command line."""
    if any(space in server for space in " \t\n"):
        return False
    location, attribute = split_target(server)
    return location.endswith(".py") or attribute is not None


def _in_process(target: str, options: ServerOptions) -> Client:
    from mcpkit.cli.targets import TargetError, load_target
    from mcpkit.client import Client

    try:
        server = load_target(target)
    except TargetError as exc:
        raise UsageError(str(exc)) from None
    except Exception as exc:  # the user's module failed to import: still a bad target
        raise UsageError(f"{target} failed to load: {type(exc).__name__}: {exc}") from None
    return Client(server, **options.client_options())


def _spawned(command: str, options: ServerOptions) -> Client:
    from mcpkit.client import Client

    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise UsageError(f"cannot split the command line {command!r}: {exc}") from None
    if not argv:
        raise UsageError("the server command line is empty")
    return Client(argv, env=dict(options.env) or None, **options.client_options())
