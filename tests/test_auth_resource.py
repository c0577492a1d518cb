"""A protected mcpkit HTTP server (`http_app(auth=ResourceServer(...))`), over real uvicorn.

Tokens are ES256 JWTs minted here with a key the server's `JWTVerifier` trusts; every request
goes over HTTP on 127.0.0.1, by httpx (to see statuses and headers) or by mcpkit's `Client`
(to see what handlers see). The full OAuth dance against the development authorization
server is in `tests/test_auth_end_to_end.py`.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mcpkit.auth import JWTVerifier, ResourceServer
from mcpkit.auth.challenge import parse_challenges
from mcpkit.client import Client
from mcpkit.protocol.errors import RPCError
from mcpkit.server import Context, Server
from tests.http_harness import serve_app

pytestmark = pytest.mark.anyio
ISSUER = "https://auth.example.test"
KEY = ec.generate_private_key(ec.SECP256R1())
PUBLIC_PEM = (
    KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)
ASKS: dict[str, Any] = {"elicitation": {"form": {}}}  # `confirm` asks the client
LEGACY_HEADERS = {
    "content-type": "application/json",
    "accept": "application/json, text/event-stream",
}


def token(audience: str, *, scope: str = "mcp:tools", sub: str = "ada", **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "sub": sub, "aud": audience, "iat": now, "exp": now + 600}
    body.update(scope=scope, client_id="cli", **claims)
    return jwt.encode(body, KEY, algorithm="ES256")


def make_server() -> Server:
    server = Server("protected")

    @server.tool()
    async def whoami(ctx: Context) -> str:
        """Who the token says is calling."""
        assert ctx.auth is not None
        return f"{ctx.auth.subject} via {ctx.auth.client_id}: {' '.join(sorted(ctx.auth.scopes))}"

    @server.tool()
    async def confirm(ctx: Context) -> str:
        """Asks before answering (in modern: a round trip with a sealed requestState)."""
        answer = await ctx.elicit(
            "Sure?", {"type": "object", "properties": {"ok": {"type": "boolean"}}}, key="ok"
        )
        return f"answered {answer.action}"

    @server.tool(scopes=["mcp:admin"])
    async def reset() -> str:
        """Needs more than the usual scope."""
        return "done"

    return server


@asynccontextmanager
async def protected(**config: Any) -> AsyncIterator[str]:
    """The protected server on uvicorn; yields its MCP URL."""
    settings: dict[str, Any] = {
        "verifier": JWTVerifier(ISSUER, key=PUBLIC_PEM),
        "authorization_servers": [ISSUER],
        "scopes_supported": ["mcp:tools", "mcp:admin", "offline_access"],
        "required_scopes": ["mcp:tools"],
    }
    settings.update(config)
    app = make_server().http_app(auth=ResourceServer(**settings))
    async with serve_app(app) as base:
        yield f"{base}/mcp"


def initialize() -> bytes:
    params = {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    }
    return json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}
    ).encode()


def bearer(value: str) -> dict[str, str]:
    return {**LEGACY_HEADERS, "authorization": f"Bearer {value}"}


async def test_no_token_is_401_with_where_to_get_one_and_the_metadata_is_served() -> None:
    async with protected() as url, httpx.AsyncClient() as http:
        response = await http.post(url, content=initialize(), headers=LEGACY_HEADERS)
        assert response.status_code == 401
        [challenge] = parse_challenges(response.headers["www-authenticate"])
        assert challenge.scheme == "bearer" and challenge.scopes == ["mcp:tools"]
        where = challenge.params["resource_metadata"]
        assert where == url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp")
        for metadata_url in (where, url.replace("/mcp", "/.well-known/oauth-protected-resource")):
            document = (await http.get(metadata_url)).json()
            assert document["resource"] == url
            assert document["authorization_servers"] == [ISSUER]
            assert document["scopes_supported"] == ["mcp:tools", "mcp:admin"]  # no offline_access


@pytest.mark.parametrize(
    ("why", "make"),
    [
        ("expired", lambda url: token(url, exp=int(time.time()) - 120)),
        ("for another server", lambda url: token("https://other.example/mcp")),
        ("from another issuer", lambda url: token(url, iss="https://evil.example")),
        ("tampered", lambda url: token(url)[:-4] + "AAAA"),
        ("not a JWT", lambda url: "opaque-token"),
    ],
)
async def test_a_token_that_is_not_good_here_is_401_invalid_token(why: str, make: Any) -> None:
    async with protected() as url, httpx.AsyncClient() as http:
        response = await http.post(url, content=initialize(), headers=bearer(make(url)))
        assert response.status_code == 401, why
        [challenge] = parse_challenges(response.headers["www-authenticate"])
        assert challenge.params["error"] == "invalid_token"


async def test_a_token_without_the_required_scope_is_403_insufficient_scope() -> None:
    async with protected() as url, httpx.AsyncClient() as http:
        response = await http.post(url, content=initialize(), headers=bearer(token(url, scope="x")))
        assert response.status_code == 403
        [challenge] = parse_challenges(response.headers["www-authenticate"])
        assert challenge.params["error"] == "insufficient_scope"
        assert set(challenge.scopes or []) == {
            "mcp:tools",
            "x",
        }  # what it has, plus what is missing


@pytest.mark.parametrize("era", ["legacy", "modern"])
async def test_handlers_see_the_caller_and_a_tool_can_ask_for_more_scope(era: Any) -> None:
    async with protected() as url:
        headers = {"Authorization": f"Bearer {token(url, sub='ada')}"}
        async with Client(url, era=era, headers=headers) as client:
            result = await client.call_tool("whoami")
            assert result.content[0].text == "ada via cli: mcp:tools"  # type: ignore[union-attr]
            with pytest.raises(RPCError, match="403"):
                await client.call_tool("reset")
        admin = {"Authorization": f"Bearer {token(url, scope='mcp:tools mcp:admin')}"}
        async with Client(url, era=era, headers=admin) as client:
            assert (await client.call_tool("reset")).content[0].text == "done"  # type: ignore[union-attr]


async def test_a_legacy_session_belongs_to_whoever_opened_it() -> None:
    async with protected() as url, httpx.AsyncClient() as http:
        opened = await http.post(url, content=initialize(), headers=bearer(token(url, sub="ada")))
        assert opened.status_code == 200
        session = {
            "mcp-session-id": opened.headers["mcp-session-id"],
            "mcp-protocol-version": "2025-11-25",
        }
        ping = json.dumps({"jsonrpc": "2.0", "id": 2, "method": "ping"}).encode()
        theirs = await http.post(
            url, content=ping, headers={**bearer(token(url, sub="eve")), **session}
        )
        assert theirs.status_code == 404
        mine = await http.post(
            url, content=ping, headers={**bearer(token(url, sub="ada")), **session}
        )
        assert mine.status_code == 200


async def test_the_metadata_names_the_configured_resource_behind_a_proxy() -> None:
    public = "https://mcp.example.com/mcp"
    async with protected(resource=public) as url, httpx.AsyncClient() as http:
        document = (
            await http.get(url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp"))
        ).json()
        assert document["resource"] == public
        refused = await http.post(url, content=initialize(), headers=bearer(token(url)))
        assert refused.status_code == 401  # a token for the internal URL is not for this resource
        accepted = await http.post(url, content=initialize(), headers=bearer(token(public)))
        assert accepted.status_code == 200


async def test_jwks_keys_are_fetched_from_the_authorization_server() -> None:
    public_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(KEY.public_key()))
    jwks = {"keys": [{**public_jwk, "kid": "k1", "alg": "ES256", "use": "sig"}]}

    async def keys(scope: Any, receive: Any, send: Any) -> None:
        body = json.dumps(jwks).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async with serve_app(keys, lifespan="off") as key_server:
        verifier = JWTVerifier(ISSUER, jwks_url=f"{key_server}/jwks")
        async with protected(verifier=verifier) as url, httpx.AsyncClient() as http:
            signed = jwt.encode(
                {
                    "iss": ISSUER,
                    "sub": "ada",
                    "aud": url,
                    "exp": int(time.time()) + 60,
                    "scope": "mcp:tools",
                },
                KEY,
                algorithm="ES256",
                headers={"kid": "k1"},
            )
            with anyio.fail_after(10):
                response = await http.post(url, content=initialize(), headers=bearer(signed))
            assert response.status_code == 200


async def test_a_sealed_request_state_works_only_for_the_caller_it_was_made_for() -> None:
    from mcpkit.protocol.errors import InvalidParams
    from mcpkit.protocol.types import InputRequiredResult

    async with protected() as url:
        ada = {"Authorization": f"Bearer {token(url, sub='ada')}"}
        eve = {"Authorization": f"Bearer {token(url, sub='eve')}"}
        async with Client(url, era="modern", headers=ada, capabilities=ASKS) as client:
            first = await client.request("tools/call", {"name": "confirm"})
            assert isinstance(first, InputRequiredResult)
            state = first.request_state
        answer = {"ok": {"action": "accept", "content": {"ok": True}}}
        follow_up = {"name": "confirm", "requestState": state, "inputResponses": answer}
        async with Client(url, era="modern", headers=eve, capabilities=ASKS) as client:
            with pytest.raises(InvalidParams):
                await client.request("tools/call", follow_up)
        async with Client(url, era="modern", headers=ada, capabilities=ASKS) as client:
            done = await client.request("tools/call", follow_up)
            assert done.content[0].text == "answered accept"


async def test_an_old_http_sse_session_belongs_to_whoever_opened_it() -> None:
    async with protected() as url, httpx.AsyncClient() as http:
        sse = url.replace("/mcp", "/sse")
        headers = {"authorization": f"Bearer {token(url, sub='ada')}"}
        assert (await http.get(sse)).status_code == 401
        async with http.stream("GET", sse, headers=headers) as stream:
            lines = stream.aiter_lines()
            endpoint = ""
            with anyio.fail_after(5):
                async for line in lines:
                    if line.startswith("data:"):
                        endpoint = line.removeprefix("data:").strip()
                        break
            target = url.replace("/mcp", "") + endpoint
            ping = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}).encode()
            theirs = await http.post(target, content=ping, headers=bearer(token(url, sub="eve")))
            assert theirs.status_code == 404
            mine = await http.post(target, content=ping, headers=bearer(token(url, sub="ada")))
            assert mine.status_code == 202
