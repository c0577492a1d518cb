"""The development authorization server (`mcpkit auth-server`), over real uvicorn and as a
real subprocess. The flows a client drives are in `tests/test_auth_end_to_end.py`; here are
its refusals and its other endpoints."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import jwt
import pytest

from mcpkit.auth import IntrospectionVerifier, ResourceServer
from mcpkit.auth.dev_authorization import DevAuthorizationServer
from mcpkit.client import Client
from mcpkit.server import Context, Server
from tests.http_harness import free_port, serve_app

pytestmark = pytest.mark.anyio
REDIRECT = "http://127.0.0.1:1/callback"


@asynccontextmanager
async def authorization_server(**options: Any) -> AsyncIterator[tuple[str, DevAuthorizationServer]]:
    holder: dict[str, DevAuthorizationServer] = {}

    async def forward(scope: Any, receive: Any, send: Any) -> None:
        await holder["dev"].app(scope, receive, send)

    async with serve_app(forward, lifespan="off") as issuer:
        holder["dev"] = DevAuthorizationServer(issuer, **options)
        yield issuer, holder["dev"]


def pkce() -> tuple[str, str]:
    verifier = "v" * 50
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def register(http: httpx.AsyncClient, issuer: str, **body: Any) -> dict[str, Any]:
    response = await http.post(f"{issuer}/register", json={"redirect_uris": [REDIRECT], **body})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def code_for(http: httpx.AsyncClient, issuer: str, client_id: str, **extra: str) -> str:
    _, challenge = pkce()
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "state": "s1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    response = await http.get(f"{issuer}/authorize", params=query)
    assert response.status_code == 302, response.text
    back = httpx.URL(response.headers["location"])
    assert back.params["state"] == "s1" and back.params["iss"] == issuer
    return back.params["code"]


async def test_metadata_names_every_endpoint_and_the_issuer_exactly() -> None:
    async with authorization_server() as (issuer, _), httpx.AsyncClient() as http:
        for path in ("oauth-authorization-server", "openid-configuration"):
            document = (await http.get(f"{issuer}/.well-known/{path}")).json()
            assert document["issuer"] == issuer
            assert document["code_challenge_methods_supported"] == ["S256"]
            assert document["authorization_response_iss_parameter_supported"] is True


async def test_registration_refuses_redirects_that_are_neither_https_nor_loopback() -> None:
    async with authorization_server() as (issuer, _), httpx.AsyncClient() as http:
        for uris in (["http://evil.example/cb"], [], ["https://ok.example/cb#frag"]):
            response = await http.post(f"{issuer}/register", json={"redirect_uris": uris})
            assert response.status_code == 400
            assert response.json()["error"] == "invalid_redirect_uri"
        public = await register(http, issuer, token_endpoint_auth_method="none")
        assert "client_secret" not in public


async def test_an_unknown_client_or_redirect_gets_an_error_page_never_a_redirect() -> None:
    async with authorization_server(auto_approve=True) as (issuer, _), httpx.AsyncClient() as http:
        client = await register(http, issuer)
        for client_id, redirect in (
            ("nobody", REDIRECT),
            (client["client_id"], "https://evil.example/cb"),
        ):
            query = {"client_id": client_id, "redirect_uri": redirect, "response_type": "code"}
            response = await http.get(f"{issuer}/authorize", params=query)
            assert response.status_code == 400 and "location" not in response.headers
        no_pkce = {
            "client_id": client["client_id"],
            "redirect_uri": REDIRECT,
            "response_type": "code",
        }
        response = await http.get(f"{issuer}/authorize", params=no_pkce)
        assert httpx.URL(response.headers["location"]).params["error"] == "invalid_request"


async def test_a_code_needs_its_verifier_and_redirect_and_works_once() -> None:
    async with authorization_server(auto_approve=True) as (issuer, _), httpx.AsyncClient() as http:
        client = await register(http, issuer)
        auth = (client["client_id"], client["client_secret"])
        verifier, _ = pkce()
        form = {
            "grant_type": "authorization_code",
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        }
        code = await code_for(http, issuer, client["client_id"])
        wrong = await http.post(
            f"{issuer}/token", data={**form, "code": code, "code_verifier": "x" * 50}, auth=auth
        )
        assert wrong.json()["error"] == "invalid_grant"
        code = await code_for(http, issuer, client["client_id"], resource="https://mcp.example/mcp")
        good = await http.post(f"{issuer}/token", data={**form, "code": code}, auth=auth)
        assert good.status_code == 200 and good.headers["cache-control"] == "no-store"
        again = await http.post(f"{issuer}/token", data={**form, "code": code}, auth=auth)
        assert again.json()["error"] == "invalid_grant"
        keys = (await http.get(f"{issuer}/jwks")).json()["keys"]
        key = jwt.PyJWK.from_dict(keys[0]).key
        claims = jwt.decode(
            good.json()["access_token"],
            key,
            algorithms=["ES256"],
            audience="https://mcp.example/mcp",
        )
        assert claims["iss"] == issuer and claims["client_id"] == client["client_id"]
        bad_secret = await http.post(
            f"{issuer}/token", data={**form, "code": code}, auth=(client["client_id"], "no")
        )
        assert (
            bad_secret.status_code == 401
            and "basic" in bad_secret.headers["www-authenticate"].lower()
        )


async def test_refresh_tokens_rotate_and_client_credentials_and_introspection_and_revocation() -> (
    None
):
    async with authorization_server(auto_approve=True) as (issuer, _), httpx.AsyncClient() as http:
        client = await register(http, issuer, grant_types=["authorization_code", "refresh_token"])
        auth = (client["client_id"], client["client_secret"])
        verifier, _ = pkce()
        code = await code_for(http, issuer, client["client_id"], scope="mcp:tools offline_access")
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        }
        first = (await http.post(f"{issuer}/token", data=form, auth=auth)).json()
        refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
        second = (await http.post(f"{issuer}/token", data=refresh, auth=auth)).json()
        assert second["refresh_token"] != first["refresh_token"]
        reused = await http.post(f"{issuer}/token", data=refresh, auth=auth)
        assert reused.json()["error"] == "invalid_grant"
        machine = await http.post(
            f"{issuer}/token",
            data={"grant_type": "client_credentials", "scope": "mcp:tools"},
            auth=auth,
        )
        assert machine.status_code == 200 and "refresh_token" not in machine.json()
        token = second["access_token"]
        active = (await http.post(f"{issuer}/introspect", data={"token": token}, auth=auth)).json()
        assert active["active"] is True and active["scope"] == "mcp:tools offline_access"
        assert (await http.post(f"{issuer}/introspect", data={"token": token})).status_code == 401
        await http.post(f"{issuer}/revoke", data={"token": token}, auth=auth)
        revoked = (await http.post(f"{issuer}/introspect", data={"token": token}, auth=auth)).json()
        assert revoked == {"active": False}


async def test_the_consent_page_approves_or_denies() -> None:
    async with authorization_server() as (issuer, _), httpx.AsyncClient() as http:
        client = await register(http, issuer, client_name="Claude <Desktop>")
        _, challenge = pkce()
        query = {
            "response_type": "code",
            "client_id": client["client_id"],
            "redirect_uri": REDIRECT,
            "state": "s",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        for decision, expect in (("approve", "code"), ("deny", "error")):
            page = await http.get(f"{issuer}/authorize", params=query)
            assert page.status_code == 200 and "Claude &lt;Desktop&gt;" in page.text
            assert (
                "127.0.0.1:1" in page.text
                and "NOT" not in page.text.upper().split("DEVELOPMENT")[0]
            )
            csrf = page.text.split('name=csrf value="')[1].split('"')[0]
            answer = await http.post(
                f"{issuer}/authorize", data={"csrf": csrf, "decision": decision}
            )
            assert expect in httpx.URL(answer.headers["location"]).params
            replay = await http.post(
                f"{issuer}/authorize", data={"csrf": csrf, "decision": "approve"}
            )
            assert replay.status_code == 400  # a consent form is good once


def test_the_command_line_serves_it_and_says_it_is_for_development() -> None:
    port = free_port()
    command = [sys.executable, "-m", "mcpkit", "auth-server", "--port", str(port), "--auto-approve"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(100):
            try:
                document = httpx.get(
                    f"http://127.0.0.1:{port}/.well-known/oauth-authorization-server"
                ).json()
                break
            except httpx.HTTPError:
                anyio.run(anyio.sleep, 0.1)
        else:
            pytest.fail("the authorization server never answered")
        assert document["issuer"] == f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert "NOT FOR PRODUCTION" in err


async def test_a_protected_server_can_check_opaque_use_of_tokens_by_introspection() -> None:
    server = Server("introspected")

    @server.tool()
    async def whoami(ctx: Context) -> str:
        assert ctx.auth is not None
        return str(ctx.auth.client_id)

    async with authorization_server(auto_approve=True) as (issuer, dev):
        dev.add_client("resource-server", "rs-secret", [])
        verifier = IntrospectionVerifier(f"{issuer}/introspect", "resource-server", "rs-secret")
        config = ResourceServer(verifier, authorization_servers=[issuer])
        async with serve_app(server.http_app(auth=config)) as base, httpx.AsyncClient() as http:
            url = f"{base}/mcp"
            client = await register(http, issuer)
            grant = {"grant_type": "client_credentials", "resource": url}
            answer = await http.post(
                f"{issuer}/token", data=grant, auth=(client["client_id"], client["client_secret"])
            )
            headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
            async with Client(url, era="legacy", headers=headers) as mcp:
                result = await mcp.call_tool("whoami")
            assert result.content[0].text == client["client_id"]  # type: ignore[union-attr]
            other = {**grant, "resource": "https://other.example/mcp"}
            wrong = await http.post(
                f"{issuer}/token", data=other, auth=(client["client_id"], client["client_secret"])
            )
            refused = await http.post(
                url, json={}, headers={"Authorization": f"Bearer {wrong.json()['access_token']}"}
            )
            assert refused.status_code == 401  # introspection says active, but not for this server


async def test_a_client_id_metadata_document_is_fetched_checked_and_guarded() -> None:
    documents: dict[str, Any] = {}

    async def serve_document(scope: Any, receive: Any, send: Any) -> None:
        body = json.dumps(documents.get(scope["path"], {})).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async with serve_app(serve_document, lifespan="off") as site:
        url = f"{site}/client.json"
        documents["/client.json"] = {
            "client_id": url,
            "client_name": "Doc Client",
            "redirect_uris": [REDIRECT],
        }
        documents["/liar.json"] = {
            "client_id": "https://someone-else.example/c",
            "redirect_uris": [REDIRECT],
        }
        async with (
            authorization_server(auto_approve=True, allow_private_cimd=True) as (issuer, _),
            httpx.AsyncClient() as http,
        ):
            code = await code_for(http, issuer, url)
            verifier, _ = pkce()
            form = {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "code_verifier": verifier,
                "client_id": url,
            }
            assert (await http.post(f"{issuer}/token", data=form)).status_code == 200
            liar = {
                "client_id": f"{site}/liar.json",
                "redirect_uri": REDIRECT,
                "response_type": "code",
            }
            assert (await http.get(f"{issuer}/authorize", params=liar)).status_code == 400
        async with (
            authorization_server(auto_approve=True) as (issuer, _),
            httpx.AsyncClient() as http,
        ):
            guarded = {"client_id": url, "redirect_uri": REDIRECT, "response_type": "code"}
            response = await http.get(f"{issuer}/authorize", params=guarded)
            assert response.status_code == 400  # a loopback (and http) document is not fetched


async def test_a_loopback_redirect_may_come_back_on_another_port() -> None:
    """RFC 8252 §7.3: a native app registers once and takes a free port per run (mcpkit's
    own `LoopbackRedirect` with a stored registration does)."""
    async with authorization_server(auto_approve=True) as (issuer, _), httpx.AsyncClient() as http:
        client = await register(http, issuer)
        code = await code_for(
            http, issuer, client["client_id"], redirect_uri="http://127.0.0.1:2/callback"
        )
        verifier, _ = pkce()
        form = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}
        auth = (client["client_id"], client["client_secret"])
        registered_port = await http.post(
            f"{issuer}/token", data={**form, "redirect_uri": REDIRECT}, auth=auth
        )
        assert registered_port.json()["error"] == "invalid_grant"  # the token request: exact
        for other in ("http://127.0.0.1:2/elsewhere", "http://localhost:2/callback"):
            query = {"client_id": client["client_id"], "redirect_uri": other}
            refused = await http.get(f"{issuer}/authorize", params=query)
            assert refused.status_code == 400 and "location" not in refused.headers


async def test_the_audience_is_the_one_authorized_at_the_token_and_refresh_requests() -> None:
    async with authorization_server(auto_approve=True) as (issuer, _), httpx.AsyncClient() as http:
        client = await register(http, issuer, grant_types=["authorization_code", "refresh_token"])
        auth = (client["client_id"], client["client_secret"])
        verifier, _ = pkce()
        form = {
            "grant_type": "authorization_code",
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        }
        unnamed = await code_for(http, issuer, client["client_id"])
        other = {"resource": "https://other.example/mcp"}
        added = await http.post(
            f"{issuer}/token", data={**form, "code": unnamed, **other}, auth=auth
        )
        assert added.json()["error"] == "invalid_target"
        mine = "https://mine.example/mcp"
        code = await code_for(http, issuer, client["client_id"], resource=mine)
        tokens = (await http.post(f"{issuer}/token", data={**form, "code": code}, auth=auth)).json()
        refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        moved = await http.post(f"{issuer}/token", data={**refresh, **other}, auth=auth)
        assert moved.json()["error"] == "invalid_target"
        kept = (await http.post(f"{issuer}/token", data=refresh, auth=auth)).json()
        claims = jwt.decode(kept["access_token"], options={"verify_signature": False})
        assert claims["aud"] == mine  # and the refused attempt did not burn the token


async def test_only_the_client_a_token_was_issued_to_revokes_it() -> None:
    async with authorization_server(auto_approve=True) as (issuer, _), httpx.AsyncClient() as http:
        owner = await register(http, issuer, grant_types=["authorization_code", "refresh_token"])
        stranger = await register(http, issuer)
        auth = (owner["client_id"], owner["client_secret"])
        verifier, _ = pkce()
        code = await code_for(http, issuer, owner["client_id"])
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
        tokens = (
            await http.post(f"{issuer}/token", data={**form, "code_verifier": verifier}, auth=auth)
        ).json()
        token = {"token": tokens["refresh_token"]}
        assert (await http.post(f"{issuer}/revoke", data=token)).status_code == 401
        theirs = (stranger["client_id"], stranger["client_secret"])
        assert (await http.post(f"{issuer}/revoke", data=token, auth=theirs)).status_code == 200
        refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        assert (await http.post(f"{issuer}/token", data=refresh, auth=auth)).status_code == 200


async def test_registration_refuses_grants_it_does_not_know() -> None:
    async with authorization_server() as (issuer, _), httpx.AsyncClient() as http:
        for body in (
            {"grant_types": "authorization_code"},
            {"grant_types": ["password"]},
            {"grant_types": ["client_credentials"], "token_endpoint_auth_method": "none"},
        ):
            response = await http.post(
                f"{issuer}/register", json={"redirect_uris": [REDIRECT], **body}
            )
            assert response.status_code == 400
            assert response.json()["error"] == "invalid_client_metadata"


async def test_a_client_metadata_document_is_read_afresh_and_never_past_64_kb() -> None:
    documents: dict[str, bytes] = {}

    async def serve_document(scope: Any, receive: Any, send: Any) -> None:
        start = {"type": "http.response.start", "status": 200, "headers": []}
        await send(start)
        body = documents[scope["path"]]
        for at in range(0, len(body), 65536):  # streamed: the server must stop reading
            await send(
                {"type": "http.response.body", "body": body[at : at + 65536], "more_body": True}
            )
        await send({"type": "http.response.body", "body": b""})

    async with serve_app(serve_document, lifespan="off") as site:
        url, huge = f"{site}/client.json", f"{site}/huge.json"
        other = "http://127.0.0.1:1/other"
        document = {
            "client_id": url,
            "client_name": "Doc Client",
            "redirect_uris": [REDIRECT, other],
        }
        documents["/client.json"] = json.dumps(document).encode()
        documents["/huge.json"] = json.dumps({"client_id": huge, "pad": " " * 10_000_000}).encode()
        async with (
            authorization_server(allow_private_cimd=True) as (issuer, _),
            httpx.AsyncClient() as http,
        ):
            _, challenge = pkce()
            query = {
                "response_type": "code",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
            for redirect in (REDIRECT, other):  # every URI the document lists, by its name
                page = await http.get(
                    f"{issuer}/authorize",
                    params={**query, "client_id": url, "redirect_uri": redirect},
                )
                assert page.status_code == 200 and "Doc Client" in page.text
                assert page.headers["x-frame-options"] == "DENY"
            documents["/client.json"] = json.dumps({**document, "redirect_uris": [other]}).encode()
            withdrawn = {**query, "client_id": url, "redirect_uri": REDIRECT}
            assert (await http.get(f"{issuer}/authorize", params=withdrawn)).status_code == 400
            with anyio.fail_after(2):
                too_big = {**query, "client_id": huge, "redirect_uri": REDIRECT}
                assert (await http.get(f"{issuer}/authorize", params=too_big)).status_code == 400
