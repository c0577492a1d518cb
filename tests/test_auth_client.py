"""The OAuth client's pieces: challenges, the callback's checks, discovery order, the stores,
the loopback redirect, DPoP proofs. The whole flows run against the official conformance
suite's mock servers (`conformance/run-client`, every `auth/*` scenario) and against the
development authorization server (`tests/test_auth_end_to_end.py`)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

import anyio
import httpx
import jwt
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mcpkit.auth.challenge import parse_challenges
from mcpkit.auth.discovery import (
    ServerMetadata,
    canonical_resource,
    find_resource_metadata,
    find_server_metadata,
)
from mcpkit.auth.dpop import DPoPKey
from mcpkit.auth.oauth import _code_from, pkce_pair
from mcpkit.auth.redirects import LoopbackRedirect
from mcpkit.auth.store import FileTokenStore, MemoryTokenStore
from mcpkit.protocol.errors import OAuthFlowError
from tests.http_harness import scripted, serve_app

ISSUER = "https://as.example"


# ---- WWW-Authenticate ---------------------------------------------------------------------


def test_challenges_with_quoted_and_token_values_several_schemes_and_escapes() -> None:
    header = (
        'Bearer error="insufficient_scope", scope="a b", resource_metadata="https://x/y", '
        'DPoP algs=ES256, error=use_dpop_nonce, Basic realm="say \\"hi\\""'
    )
    bearer, dpop, basic = parse_challenges(header)
    assert bearer.scheme == "bearer" and bearer.scopes == ["a", "b"]
    assert bearer.params["resource_metadata"] == "https://x/y"
    assert dpop.params == {"algs": "ES256", "error": "use_dpop_nonce"}
    assert basic.params["realm"] == 'say "hi"'


@pytest.mark.parametrize("header", ["", "   ", ",,", '"', "Bearer", "Bearer realm="])
def test_odd_challenges_never_raise(header: str) -> None:
    parse_challenges(header)


# ---- the callback (RFC 9207 iss, state, errors) -------------------------------------------


def metadata(**document: Any) -> ServerMetadata:
    return ServerMetadata(ISSUER, f"{ISSUER}/authorize", f"{ISSUER}/token", None, document)


def callback(**query: str) -> str:
    return "http://localhost:3000/callback?" + "&".join(f"{k}={v}" for k, v in query.items())


def test_the_code_is_taken_only_after_iss_and_state_check_out() -> None:
    advertised = metadata(authorization_response_iss_parameter_supported=True)
    assert _code_from(callback(code="c", state="s", iss=ISSUER), advertised, "s") == "c"
    assert _code_from(callback(code="c", state="s"), metadata(), "s") == "c"  # neither side
    with pytest.raises(OAuthFlowError, match="advertises `iss`"):
        _code_from(callback(code="c", state="s"), advertised, "s")
    for wrong in ("https://evil.example", ISSUER + "/", "HTTPS://as.example", ISSUER + ":443"):
        with pytest.raises(OAuthFlowError, match="refusing"):  # exact, never normalized
            _code_from(callback(code="c", state="s", iss=wrong), metadata(), "s")
    with pytest.raises(OAuthFlowError, match="state"):
        _code_from(callback(code="c", state="other"), metadata(), "s")


def test_an_error_from_the_wrong_issuer_is_not_believed() -> None:
    forged = callback(error="access_denied", state="s", iss="https://evil.example")
    with pytest.raises(OAuthFlowError, match="refusing") as info:
        _code_from(forged, metadata(), "s")
    assert "access_denied" not in str(info.value)
    with pytest.raises(OAuthFlowError, match="access_denied"):
        _code_from(callback(error="access_denied", state="s", iss=ISSUER), metadata(), "s")


def test_pkce_challenge_is_the_s256_of_the_verifier() -> None:
    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert challenge == expected.decode()


# ---- discovery, against real HTTP ---------------------------------------------------------


@pytest.mark.anyio
async def test_discovery_tries_the_header_then_the_path_then_the_root_and_checks_issuers() -> None:
    seen: list[str] = []
    base: list[str] = []

    async def handler(request: Request) -> Response:
        seen.append(request.url.path)
        if request.url.path == "/.well-known/oauth-protected-resource":
            return JSONResponse(
                {"resource": f"{base[0]}/mcp", "authorization_servers": [f"{base[0]}/tenant"]}
            )
        if request.url.path == "/.well-known/openid-configuration/tenant":
            return JSONResponse({"issuer": f"{base[0]}/tenant", "token_endpoint": f"{base[0]}/t"})
        if request.url.path == "/.well-known/oauth-authorization-server/other":
            return JSONResponse({"issuer": f"{base[0]}/someone-else", "token_endpoint": "x"})
        return Response(status_code=404)

    async with serve_app(scripted(handler), lifespan="off") as url, httpx.AsyncClient() as http:
        base.append(url)
        prm = await find_resource_metadata(http, f"{url}/mcp", f"{url}/hinted")
        assert prm is not None and prm.authorization_servers == [f"{url}/tenant"]
        assert seen == [
            "/hinted",
            "/.well-known/oauth-protected-resource/mcp",
            "/.well-known/oauth-protected-resource",
        ]
        server = await find_server_metadata(http, f"{url}/tenant")
        assert server.token_endpoint == f"{url}/t"
        assert seen[-2:] == [
            "/.well-known/oauth-authorization-server/tenant",
            "/.well-known/openid-configuration/tenant",
        ]
        with pytest.raises(OAuthFlowError, match="someone-else"):
            await find_server_metadata(http, f"{url}/other")
        with pytest.raises(OAuthFlowError, match="not for"):  # PRM for another server
            await find_resource_metadata(
                http, "http://127.0.0.1:1/elsewhere", f"{url}/.well-known/oauth-protected-resource"
            )


def test_canonical_resource_keeps_the_path_and_drops_the_fragment() -> None:
    assert canonical_resource("HTTPS://MCP.Example.com/mcp#x") == "https://mcp.example.com/mcp"
    assert canonical_resource("https://mcp.example.com/") == "https://mcp.example.com"


# ---- stores ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_file_store_is_private_and_survives_a_new_instance(tmp_path: Path) -> None:
    path = tmp_path / "new-dir" / "tokens.json"
    await FileTokenStore(path).save("tokens a b", {"access_token": "x", "expires_at": 1.5})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    again = FileTokenStore(path)
    assert await again.load("tokens a b") == {"access_token": "x", "expires_at": 1.5}
    await again.save("tokens a b", None)
    assert await again.load("tokens a b") is None
    path.write_text("{not json")
    assert await FileTokenStore(path).load("anything") is None  # damaged: start over


@pytest.mark.anyio
async def test_the_memory_store_hands_out_copies() -> None:
    store = MemoryTokenStore()
    await store.save("k", {"a": 1})
    record = await store.load("k")
    assert record == {"a": 1}
    record["a"] = 2
    assert await store.load("k") == {"a": 1}


# ---- the loopback redirect ------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_loopback_redirect_returns_the_url_the_browser_came_back_to() -> None:
    opened: list[str] = []
    browser_opened = anyio.Event()

    def open_browser(url: str) -> None:
        opened.append(url)
        browser_opened.set()

    redirect = LoopbackRedirect(open_browser=open_browser, timeout=10)
    uri = redirect.redirect_uri
    assert uri.startswith("http://127.0.0.1:") and uri.endswith("/callback")

    async def browser() -> None:
        await browser_opened.wait()
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"{uri}/../favicon.ico")).status_code == 404
            page = await http.get(f"{uri}?code=abc&state=xyz")
            assert "close this window" in page.text

    async with anyio.create_task_group() as tg:
        tg.start_soon(browser)
        back = await redirect.authorize("https://as.example/authorize?x=1")
    assert opened == ["https://as.example/authorize?x=1"]
    assert back == f"{uri}?code=abc&state=xyz"


@pytest.mark.anyio
async def test_the_loopback_redirect_gives_up_after_its_timeout() -> None:
    redirect = LoopbackRedirect(open_browser=lambda url: None, timeout=0.2)
    with pytest.raises(OAuthFlowError, match="no authorization callback"):
        await redirect.authorize("https://as.example/authorize")


# ---- DPoP -----------------------------------------------------------------------------------


def test_a_dpop_proof_is_signed_by_its_embedded_key_and_binds_method_url_token_nonce() -> None:
    key = DPoPKey()
    key.note_nonce("https://rs.example/mcp", "n-1")
    proof = key.proof("POST", "https://rs.example/mcp?q=1#f", access_token="at")
    header = jwt.get_unverified_header(proof)
    assert header["typ"] == "dpop+jwt" and header["alg"] == "ES256"
    public = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(header["jwk"]))
    claims = jwt.decode(proof, public, algorithms=["ES256"])  # type: ignore[arg-type]
    assert claims["htm"] == "POST" and claims["htu"] == "https://rs.example/mcp"
    assert claims["nonce"] == "n-1"
    assert (
        claims["ath"]
        == base64.urlsafe_b64encode(hashlib.sha256(b"at").digest()).rstrip(b"=").decode()
    )
    assert key.proof("POST", "https://rs.example/mcp") != key.proof(
        "POST", "https://rs.example/mcp"
    )
