"""OAuth end to end on 127.0.0.1: mcpkit's client ↔ a protected mcpkit server ↔ the
development authorization server, all on real uvicorn; and the official Python SDK's OAuth
client against the same protected server.

The authorization server approves at once (`auto_approve`), so the browser step is the
headless redirect; everything else is the real flow: discovery, registration, PKCE,
`resource`, JWT access tokens checked against the server's JWKS, refresh, step-up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import pytest

from mcpkit.auth import HeadlessRedirect, JWTVerifier, MemoryTokenStore, OAuth, ResourceServer
from mcpkit.auth.dev_authorization import dev_authorization_server
from mcpkit.client import Client, EraChoice
from mcpkit.protocol.errors import RPCError
from mcpkit.server import Context, Server
from tests.http_harness import serve_app

pytestmark = pytest.mark.anyio
TIMEOUT = 20
ERAS = pytest.mark.parametrize("era", ["legacy", "modern"])


@asynccontextmanager
async def authorization_server(**options: Any) -> AsyncIterator[str]:
    """The development authorization server at its own URL (its issuer); yields the URL."""
    app: dict[str, Any] = {}

    async def forward(scope: Any, receive: Any, send: Any) -> None:
        await app["asgi"](scope, receive, send)

    async with serve_app(forward, lifespan="off") as issuer:
        app["asgi"] = dev_authorization_server(issuer, auto_approve=True, **options)
        yield issuer


def make_server() -> Server:
    server = Server("protected")

    @server.tool()
    async def whoami(ctx: Context) -> str:
        """Who is calling, and with what."""
        assert ctx.auth is not None
        return f"{ctx.auth.client_id}: {' '.join(sorted(ctx.auth.scopes))}"

    @server.tool(scopes=["mcp:admin"])
    async def reset() -> str:
        """Needs a scope the first token does not have."""
        return "done"

    return server


@dataclass
class Setup:
    issuer: str
    url: str
    config: ResourceServer


@asynccontextmanager
async def protected(**as_options: Any) -> AsyncIterator[Setup]:
    async with authorization_server(**as_options) as issuer:
        config = ResourceServer(
            JWTVerifier(issuer, jwks_url=f"{issuer}/jwks"),
            authorization_servers=[issuer],
            scopes_supported=["mcp:tools", "mcp:admin"],
            required_scopes=["mcp:tools"],
        )
        async with serve_app(make_server().http_app(auth=config)) as base:
            yield Setup(issuer, f"{base}/mcp", config)


def oauth(**options: Any) -> OAuth:
    return OAuth(redirect=HeadlessRedirect("http://127.0.0.1:1/callback"), **options)


def text(result: Any) -> str:
    return str(result.content[0].text)


@ERAS
async def test_the_client_gets_a_token_on_the_first_401_and_the_handler_sees_the_caller(
    era: EraChoice,
) -> None:
    async with protected() as setup:
        auth = oauth()
        with anyio.fail_after(TIMEOUT):
            async with Client(setup.url, era=era, auth=auth) as client:
                who = text(await client.call_tool("whoami"))
        # the challenged scope, plus offline_access because the server offers it
        assert who.endswith(": mcp:tools offline_access")


@ERAS
async def test_a_tool_needing_more_scope_gets_it_by_step_up(era: EraChoice) -> None:
    async with protected() as setup:
        with anyio.fail_after(TIMEOUT):
            async with Client(setup.url, era=era, auth=oauth()) as client:
                assert text(await client.call_tool("reset")) == "done"
                who = text(await client.call_tool("whoami"))
        assert who.endswith(": mcp:admin mcp:tools offline_access")  # the union


async def test_an_expired_token_is_refreshed_without_a_new_authorization() -> None:
    async with protected(access_token_ttl=2) as setup:
        store = MemoryTokenStore()
        with anyio.fail_after(TIMEOUT):
            async with Client(
                setup.url,
                era="legacy",
                auth=oauth(store=store, scopes=["mcp:tools", "offline_access"]),
            ) as client:
                await client.call_tool("whoami")
                [(key, first)] = [
                    (k, v) for k, v in store.records.items() if k.startswith("tokens")
                ]
                assert "refresh_token" in first
                await anyio.sleep(2.5)
                await client.call_tool("whoami")
        assert store.records[key]["access_token"] != first["access_token"]
        assert store.records[key]["refresh_token"] != first["refresh_token"]  # rotated


async def test_tokens_stored_by_one_client_are_used_by_the_next() -> None:
    async with protected() as setup:
        store = MemoryTokenStore()
        async with Client(setup.url, era="legacy", auth=oauth(store=store)) as client:
            await client.call_tool("whoami")
        redirect = HeadlessRedirect("http://127.0.0.1:1/callback")
        asked: list[str] = []
        original = redirect.authorize

        async def counted(url: str) -> str:
            asked.append(url)
            return await original(url)

        redirect.authorize = counted  # type: ignore[method-assign]
        async with Client(
            setup.url, era="legacy", auth=OAuth(redirect=redirect, store=store)
        ) as client:
            await client.call_tool("whoami")
        assert asked == []  # no second authorization: the stored token was good


async def test_a_new_authorization_server_means_a_new_registration() -> None:
    async with protected() as setup, authorization_server() as second:
        store = MemoryTokenStore()
        async with Client(setup.url, era="legacy", auth=oauth(store=store)) as client:
            await client.call_tool("whoami")
        setup.config.authorization_servers[:] = [second]
        setup.config.verifier = JWTVerifier(second, jwks_url=f"{second}/jwks")
        async with Client(setup.url, era="legacy", auth=oauth(store=store)) as client:
            await client.call_tool("whoami")
        registrations = {key for key in store.records if key.startswith("client ")}
        assert registrations == {f"client {setup.issuer}", f"client {second}"}
        first, other = store.records[f"client {setup.issuer}"], store.records[f"client {second}"]
        assert first["client_id"] != other["client_id"]


async def test_a_pre_registered_client_for_another_server_is_refused() -> None:
    async with protected() as setup:
        auth = oauth(client_id="abc", client_secret="s", issuer="https://elsewhere.example")
        with pytest.raises(RPCError, match=r"belongs to https://elsewhere\.example"):
            async with Client(setup.url, era="legacy", auth=auth):
                pass


async def test_the_official_sdk_oauth_client_against_a_protected_mcpkit_server() -> None:
    import httpx2
    from mcp.client import Client as SdkClient
    from mcp.client.auth import OAuthClientProvider, TokenStorage
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared.auth import (
        AuthorizationCodeResult,
        OAuthClientInformationFull,
        OAuthClientMetadata,
        OAuthToken,
    )

    class Storage(TokenStorage):
        def __init__(self) -> None:
            self.tokens: OAuthToken | None = None
            self.client: OAuthClientInformationFull | None = None

        async def get_tokens(self) -> OAuthToken | None:
            return self.tokens

        async def set_tokens(self, tokens: OAuthToken) -> None:
            self.tokens = tokens

        async def get_client_info(self) -> OAuthClientInformationFull | None:
            return self.client

        async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
            self.client = client_info

    async with protected() as setup:
        redirected: list[str] = []

        async def redirect_handler(url: str) -> None:
            async with httpx.AsyncClient() as http:
                response = await http.get(url)
            redirected.append(response.headers["location"])

        async def callback_handler() -> AuthorizationCodeResult:
            query = httpx.URL(redirected[-1]).params
            return AuthorizationCodeResult(
                code=query["code"], state=query.get("state"), iss=query.get("iss")
            )

        metadata = OAuthClientMetadata(
            client_name="sdk",
            redirect_uris=["http://127.0.0.1:1/callback"],  # type: ignore[list-item]
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
        )
        provider = OAuthClientProvider(
            setup.url, metadata, Storage(), redirect_handler, callback_handler
        )
        with anyio.fail_after(TIMEOUT):
            async with httpx2.AsyncClient(auth=provider) as http:
                transport = streamable_http_client(setup.url, http_client=http)
                async with SdkClient(transport, mode="legacy") as client:
                    result = await client.call_tool("whoami", {})
        assert redirected, "the SDK never went through the authorization server"
        assert "mcp:tools" in result.content[0].text.split(": ")[1].split()  # type: ignore[union-attr]


@ERAS
async def test_mcpkit_client_against_a_server_protected_by_the_official_sdk(era: EraChoice) -> None:
    """The SDK's resource-server pieces, composed as its `simple-auth` example does (an
    `MCPServer` with `AuthSettings` and a token verifier that introspects at the
    authorization server), with the development server as that authorization server."""
    from mcp.server.auth.provider import AccessToken as SdkAccessToken
    from mcp.server.auth.settings import AuthSettings
    from mcp.server.mcpserver import MCPServer

    async with authorization_server() as issuer:
        async with httpx.AsyncClient() as http:
            registered = await http.post(
                f"{issuer}/register", json={"redirect_uris": ["http://127.0.0.1:1/cb"]}
            )
        rs_id, rs_secret = registered.json()["client_id"], registered.json()["client_secret"]

        class Introspecting:
            async def verify_token(self, token: str) -> SdkAccessToken | None:
                async with httpx.AsyncClient() as http:
                    answer = await http.post(
                        f"{issuer}/introspect", data={"token": token}, auth=(rs_id, rs_secret)
                    )
                claims = answer.json()
                if not claims.get("active"):
                    return None
                return SdkAccessToken(
                    token=token,
                    client_id=claims["client_id"],
                    scopes=claims["scope"].split(),
                    expires_at=claims["exp"],
                    resource=claims["aud"],
                )

        app: dict[str, Any] = {}

        async def forward(scope: Any, receive: Any, send: Any) -> None:
            await app["asgi"](scope, receive, send)

        async with serve_app(forward, lifespan="off") as base:  # the SDK's is entered below
            url = f"{base}/mcp"
            sdk = MCPServer(
                "sdk-protected",
                token_verifier=Introspecting(),
                auth=AuthSettings(
                    issuer_url=issuer,  # type: ignore[arg-type]
                    resource_server_url=url,  # type: ignore[arg-type]
                    required_scopes=["mcp:tools"],
                    validate_token_resource=True,  # refuse tokens for another resource
                ),
            )

            @sdk.tool()
            def add(a: int, b: int) -> str:
                """Add two integers."""
                return str(a + b)

            app["asgi"] = sdk.streamable_http_app()
            with anyio.fail_after(TIMEOUT):
                async with (
                    app["asgi"].router.lifespan_context(app["asgi"]),
                    Client(url, era=era, auth=oauth(scopes=["mcp:tools"])) as client,
                ):
                    assert text(await client.call_tool("add", {"a": 2, "b": 40})) == "42"


async def test_the_protected_example_end_to_end_with_step_up() -> None:
    """`examples/protected_server.py` as its docstring runs it, with the headless redirect."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parent.parent / "examples" / "protected_server.py"
    async with authorization_server(
        scopes=["mcp:tools", "notes:write", "offline_access"]
    ) as issuer:
        spec = importlib.util.spec_from_file_location("protected_example", path)
        assert spec is not None and spec.loader is not None
        example = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(example)
        example.ISSUER = issuer  # type: ignore[attr-defined]
        async with serve_app(example.app()) as base, Client(f"{base}/mcp", auth=oauth()) as client:
            with anyio.fail_after(TIMEOUT):
                assert text(await client.call_tool("add_note", {"text": "hi"})) == "1"
                assert "notes:write" in text(await client.call_tool("whoami"))
