"""The conformance client: mcpkit's client driven by the official conformance harness.

Why: the harness (`../shared/conformance/run client`) starts a mock MCP server per scenario
and runs `python conformance/client.py <server-url>`, with the scenario in
`MCP_CONFORMANCE_SCENARIO`, the wire the mock speaks in `MCP_CONFORMANCE_PROTOCOL_VERSION`
and, for some scenarios, JSON in `MCP_CONFORMANCE_CONTEXT`. It then judges what went over
the wire. This script only uses mcpkit's public client API, so the suite tests that API.

How scenarios map: `SCENARIOS` maps a scenario name to an async function taking a connected
`Client` and the context. A scenario not in the table runs `well_behaved` (list the tools,
call the first). The era follows the mock's wire: 2025-11-25 → a legacy `initialize`
handshake; 2026-07-28 → negotiation (`server/discover`, with the client's own fallback for
mocks that still speak only the legacy lifecycle). Every `Client` carries sampling,
elicitation (accept with the schema's defaults) and roots handlers, so all three are declared.
The skills scenarios get a minimal host here (list, then load and verify one skill), since
mcpkit's client has no skills API. `auth/*` scenarios run with `OAuth` and a headless
redirect (`oauth_for`).

Exit status: 0 on success, 1 with one stderr line on failure (or a refused scenario).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from typing import Any

import anyio
import msgspec

from mcpkit.auth import ClientCredentials, EnterpriseManaged, HeadlessRedirect, JwtBearer, OAuth
from mcpkit.auth.grants import Grant
from mcpkit.client import Client, EraChoice, Handlers
from mcpkit.protocol.types import Tool
from mcpkit.transports.http import http_client

Context = dict[str, Any]
Scenario = Callable[[Client, Context], Awaitable[None]]

MODERN_WIRE = "2026-07-28"
HEADER_KEY = "x-mcp-header"


class ScenarioError(Exception):
    """The scenario could not be run the way the harness expects."""


# ---- the client's answers to a server's asks --------------------------------------------


def elicit(params: dict[str, Any]) -> dict[str, Any]:
    """Accept every form; mcpkit fills the requested schema's defaults into the content."""
    return {"action": "accept", "content": {}}


def sample(params: dict[str, Any]) -> dict[str, Any]:
    """A fixed assistant answer to any sampling request."""
    return {
        "role": "assistant",
        "content": {"type": "text", "text": "This is a conformance test answer."},
        "model": "mcpkit-conformance",
        "stopReason": "endTurn",
    }


def handlers() -> Handlers:
    return Handlers(sampling=sample, elicitation=elicit, roots=["file:///tmp/mcpkit-conformance"])


def era_for(wire: str) -> EraChoice:
    """Legacy for a dated legacy wire; negotiate (discover, then fall back) otherwise."""
    return "auto" if wire >= MODERN_WIRE else "legacy"


# ---- scenarios ---------------------------------------------------------------------------


async def first_tool(client: Client) -> Tool:
    tools = await client.list_tools()
    if not tools:
        raise ScenarioError("the server lists no tools")
    return tools[0]


async def well_behaved(client: Client, context: Context) -> None:
    """List the tools and call the first one."""
    tool = await first_tool(client)
    await client.call_tool(tool.name, {})


async def initialize(client: Client, context: Context) -> None:
    """The handshake; then `tools/list` only if the server declared tools (mcpkit refuses a
    request for a capability the server did not declare)."""
    if "tools" in client.server_capabilities:
        await client.list_tools()


async def tools_call(client: Client, context: Context) -> None:
    await client.list_tools()
    await client.call_tool("add_numbers", {"a": 5, "b": 3})


async def elicitation_defaults(client: Client, context: Context) -> None:
    await client.list_tools()
    await client.call_tool("test_client_elicitation_defaults", {})


async def sse_retry(client: Client, context: Context) -> None:
    await client.list_tools()
    await client.call_tool("test_reconnection", {})


async def request_state(client: Client, context: Context) -> None:
    """MRTR: `call_tool` answers each round and echoes `requestState`."""
    await client.list_tools()
    for name in (
        "test_mrtr_echo_state",
        "test_mrtr_unrelated",
        "test_mrtr_no_state",
        "test_mrtr_no_result_type",
    ):
        await client.call_tool(name, {})


async def standard_headers(client: Client, context: Context) -> None:
    """One of each method that carries `Mcp-Name`: tools/call, resources/read, prompts/get."""
    tool = await first_tool(client)
    await client.call_tool(tool.name, {})
    resources = await client.list_resources()
    if resources:
        await client.read_resource(resources[0].uri)
    prompts = await client.list_prompts()
    if prompts:
        await client.get_prompt(prompts[0].name, {})


async def custom_headers(client: Client, context: Context) -> None:
    """Replay the context's tool calls; `Mcp-Param-*` come from the tools' annotations."""
    await client.list_tools()
    for call in context.get("toolCalls", []):
        await client.call_tool(call["name"], call.get("arguments") or {})


async def invalid_tool_headers(client: Client, context: Context) -> None:
    """mcpkit drops tools with invalid `x-mcp-header` annotations; call every tool kept."""
    for tool in await client.list_tools():
        await client.call_tool(tool.name, {"region": "us-west1"})


async def list_only(client: Client, context: Context) -> None:
    await client.list_tools()


async def schema_preservation(client: Client, context: Context) -> None:
    """Echo a tool's inputSchema verbatim, to show no keyword was dropped."""
    tools = {tool.name: tool for tool in await client.list_tools()}
    source = tools.get("json_schema_2020_12_tool")
    if source is None:
        raise ScenarioError("the server lists no json_schema_2020_12_tool")
    await client.call_tool("json_schema_echo", {"schema": source.input_schema})


# ---- skills (SEP-2640): a minimal host that verifies what it loads ---------------------


async def list_skills(client: Client) -> list[dict[str, Any]]:
    result = msgspec.to_builtins(await client.request("skills/list"))
    skills = result.get("skills", []) if isinstance(result, dict) else []
    return [skill for skill in skills if isinstance(skill, dict)]


async def skills_listed(client: Client, context: Context) -> None:
    """List the skills and load none (no file may be fetched ahead of need)."""
    await list_skills(client)


def frontmatter(text: str) -> dict[str, str]:
    """The `key: value` lines between the leading `---` fences of a SKILL.md."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}
    fields: dict[str, str] = {}
    for line in lines[1:]:
        if line.strip() == "---":
            break
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def verify(skill: dict[str, Any], uri: str, text: str) -> str | None:
    """Why a loaded file does not match the skill's listing entry, or None if it does."""
    body = text.encode("utf-8")
    for listed in skill.get("resources", []):
        if listed.get("uri") != uri:
            continue
        if "size" in listed and listed["size"] != len(body):
            return f"{uri}: {len(body)} bytes, the listing says {listed['size']}"
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if "digest" in listed and listed["digest"] != digest:
            return f"{uri}: digest {digest}, the listing says {listed['digest']}"
    if uri == skill.get("uri"):
        found = frontmatter(text)
        for key, value in (skill.get("frontmatter") or {}).items():
            if found.get(key) != value:
                return f"{uri}: frontmatter {key!r} differs from the listing"
    return None


async def load_skill(client: Client, context: Context) -> None:
    """Load the first skill: read its SKILL.md, verify it against the listing, and only
    then read its other files. A mismatch stops the load (that is the correct outcome)."""
    skills = await list_skills(client)
    if not skills:
        raise ScenarioError("the server lists no skills")
    skill = skills[0]
    main_uri = skill["uri"]
    uris = [main_uri] + [r["uri"] for r in skill.get("resources", []) if r["uri"] != main_uri]
    for uri in uris:
        result = await client.read_resource(uri)
        text = "".join(str(part.get("text", "")) for part in result.contents)
        problem = verify(skill, uri, text)
        if problem is not None:
            print(f"conformance client: rejected skill {skill['uri']}: {problem}", file=sys.stderr)
            return


SCENARIOS: dict[str, Scenario] = {
    "sep-2640-client-no-prefetch": skills_listed,
    "sep-2640-client-verify-digest": load_skill,
    "sep-2640-client-verify-size": load_skill,
    "sep-2640-client-verify-frontmatter": load_skill,
    "initialize": initialize,
    "tools_call": tools_call,
    "elicitation-sep1034-client-defaults": elicitation_defaults,
    "sse-retry": sse_retry,
    "request-metadata": tools_call,
    "sep-2322-client-request-state": request_state,
    "http-standard-headers": standard_headers,
    "http-custom-headers": custom_headers,
    "http-invalid-tool-headers": invalid_tool_headers,
    "json-schema-ref-no-deref": list_only,
    "json-schema-2020-12-preservation": schema_preservation,
}

# scenarios whose `Mcp-Param-*` headers need the transport's `param_headers` hook
PARAM_HEADER_SCENARIOS = {"http-custom-headers", "http-invalid-tool-headers"}


# ---- running one scenario ----------------------------------------------------------------


class Annotations:
    """`x-mcp-header` annotations per tool, learnt from `tools/list` (the transport's hook)."""

    def __init__(self) -> None:
        self.by_tool: dict[str, dict[str, str]] = {}

    def learn(self, tools: list[Tool]) -> None:
        for tool in tools:
            props = tool.input_schema.get("properties", {})
            self.by_tool[tool.name] = {
                arg: spec[HEADER_KEY]
                for arg, spec in props.items()
                if isinstance(spec, dict) and isinstance(spec.get(HEADER_KEY), str)
            }

    def __call__(self, tool_name: str) -> Mapping[str, str]:
        return self.by_tool.get(tool_name, {})


# the client id the CIMD scenario expects (the mock serves no document: it checks the id)
CLIENT_METADATA_URL = "https://conformance-test.local/client-metadata.json"


def grant_for(scenario: str, context: Context) -> Grant | None:
    """The browserless grant an auth-extension scenario's context is for, if any."""
    if scenario == "auth/client-credentials-jwt":
        return ClientCredentials(
            context["client_id"],
            private_key=context["private_key_pem"],
            algorithm=context.get("signing_algorithm", "ES256"),
        )
    if scenario == "auth/client-credentials-basic":
        return ClientCredentials(context["client_id"], client_secret=context["client_secret"])
    if scenario == "auth/wif-jwt-bearer":
        return JwtBearer(context["valid_jwt"], client_id=context.get("client_id"))
    if scenario == "auth/enterprise-managed-authorization":
        return EnterpriseManaged(
            idp_token_endpoint=context["idp_token_endpoint"],
            idp_client_id=context["idp_client_id"],
            id_token=context["idp_id_token"],
            client_id=context["client_id"],
            client_secret=context["client_secret"],
        )
    return None


def oauth_for(scenario: str, context: Context) -> OAuth:
    """OAuth as a headless host would set it up: the mock approves at once and redirects to
    a loopback URI nobody listens on; pre-registered credentials come from the context."""
    return OAuth(
        grant=grant_for(scenario, context),
        redirect=HeadlessRedirect("http://localhost:3000/callback"),
        client_id=context.get("client_id"),
        client_secret=context.get("client_secret"),
        client_metadata_url=CLIENT_METADATA_URL,
        client_name="mcpkit-conformance",
    )


async def open_client(
    stack: AsyncExitStack, url: str, scenario: str, wire: str, context: Context
) -> Client:
    """A connected client; for header scenarios over a transport given the annotations."""
    if scenario not in PARAM_HEADER_SCENARIOS:
        auth = oauth_for(scenario, context) if scenario.startswith("auth/") else None
        client = Client(url, era=era_for(wire), handlers=handlers(), auth=auth)
        return await stack.enter_async_context(client)
    annotations = Annotations()
    transport = await stack.enter_async_context(http_client(url, param_headers=annotations))
    client = await stack.enter_async_context(
        Client(transport, era=era_for(wire), handlers=handlers())
    )
    original = client.list_tools

    async def list_and_learn() -> list[Tool]:
        tools = await original()
        annotations.learn(tools)
        return tools

    client.list_tools = list_and_learn  # type: ignore[method-assign]
    return client


async def run(url: str, scenario: str, wire: str, context: Context) -> None:
    action = SCENARIOS.get(scenario, well_behaved)
    async with AsyncExitStack() as stack:
        client = await open_client(stack, url, scenario, wire, context)
        await action(client, context)


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(
            "usage: client.py SERVER_URL (scenario from MCP_CONFORMANCE_SCENARIO)", file=sys.stderr
        )
        return 2
    scenario = os.environ.get("MCP_CONFORMANCE_SCENARIO", "")
    wire = os.environ.get("MCP_CONFORMANCE_PROTOCOL_VERSION", "2025-11-25")
    context: Context = json.loads(os.environ.get("MCP_CONFORMANCE_CONTEXT") or "{}")
    try:
        anyio.run(run, argv[-1], scenario, wire, context)
    except Exception as exc:  # one clear line for the harness log
        print(
            f"conformance client: {scenario or '?'}: {type(exc).__name__}: {exc}", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
