"""A development OAuth 2.1 authorization server. NOT FOR PRODUCTION.

Layer: auth. Why it exists: to try a protected MCP server end to end on one machine
(`mcpkit auth-server`), and to give the tests and the conformance suite's
authorization-server scenarios a real server to talk to. Everything lives in memory and is
gone at exit; there are no users (the one who approves is "user"), no rate limits, no
persistence of keys — which is exactly why it must never face the internet.

What it does, per the RFCs MCP relies on: RFC 8414 metadata (also at the OpenID path),
RFC 7591 registration (redirect URIs must be https or loopback http), Client ID Metadata
Documents (an https `client_id` is fetched, with an SSRF guard), the authorization
code grant with PKCE S256 required, an exact redirect URI match, `state` and RFC 9207 `iss`
on the way back, RFC 8707 `resource` carried into the token's audience, a consent page
(or `auto_approve`), refresh tokens rotated on use, `client_credentials` for confidential
clients, ES256 JWT access tokens with a JWKS, RFC 7009 revocation and RFC 7662
introspection. An unknown client or redirect URI gets an error page, never a redirect.
"""

from __future__ import annotations

__all__ = ["DevAuthorizationServer", "dev_authorization_server"]

import asyncio
import base64
import hashlib
import html
import json
import secrets
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
_CODE_TTL = 60.0
_DOCUMENT_LIMIT = 65536  # bytes of a client metadata document, at most
_PENDING_CONSENTS = 1000  # consent forms kept; the oldest goes first
_GRANTS = ("authorization_code", "refresh_token", "client_credentials")
_FRAMING = {"X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'"}
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass
class _Client:
    client_id: str
    secret: str | None
    method: str
    redirect_uris: list[str]
    grant_types: list[str]
    name: str


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    scopes: list[str]
    resource: str | None
    expires: float = field(default_factory=lambda: time.time() + _CODE_TTL)


@dataclass
class _Refresh:
    client_id: str
    scopes: list[str]
    resource: str | None


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    headers = dict(_NO_STORE)
    if error == "invalid_client":
        headers["WWW-Authenticate"] = 'Basic realm="mcpkit-dev"'
    return JSONResponse({"error": error, "error_description": description}, status, headers=headers)


def _redirect_ok(uri: str) -> bool:
    parts = urllib.parse.urlsplit(uri)
    host = parts.hostname or ""
    secure = parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK)
    return secure and not parts.fragment


def _redirect_matches(given: str, registered: list[str]) -> bool:
    """An exact match, except that a loopback IP literal's port may differ: native apps
    take a free port per run (RFC 8252 §7.3, OAuth 2.1 §8.4.2: the server MUST allow it)."""
    if given in registered:
        return True
    parts = urllib.parse.urlsplit(given)
    if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "::1"):
        return False
    shape = (parts.scheme, parts.hostname, parts.path, parts.query)
    for uri in registered:
        other = urllib.parse.urlsplit(uri)
        if (other.scheme, other.hostname, other.path, other.query) == shape:
            return True
    return False


def _resource_ok(resource: str) -> bool:
    """RFC 8707 §2: an absolute URI without a fragment."""
    parts = urllib.parse.urlsplit(resource)
    return bool(parts.scheme and parts.netloc) and not parts.fragment


class DevAuthorizationServer:
    """The server's state and endpoints (see the module docstring); `app` is its ASGI app."""

    def __init__(
        self,
        issuer: str,
        *,
        auto_approve: bool = False,
        scopes: list[str] | None = None,
        access_token_ttl: int = 3600,
        allow_private_cimd: bool = False,
    ) -> None:
        self.allow_private_cimd = allow_private_cimd  # tests serve documents on 127.0.0.1
        self.issuer = issuer  # exactly as given: clients compare it as a string
        self.auto_approve = auto_approve
        self.scopes = scopes or ["mcp:tools", "mcp:admin", "offline_access"]
        self.access_token_ttl = access_token_ttl
        self.clients: dict[str, _Client] = {}
        self._codes: dict[str, _Code] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._revoked: set[str] = set()  # access token jti
        self._consents: dict[str, dict[str, str]] = {}  # CSRF token → the authorize request
        self._documents: dict[str, _Client] = {}  # CIMD clients, as last fetched
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._kid = secrets.token_hex(4)
        self.app = Starlette(routes=self._routes())

    def _routes(self) -> list[Route]:
        return [
            Route("/.well-known/oauth-authorization-server", self.metadata),
            Route("/.well-known/openid-configuration", self.metadata),
            Route("/register", self.register, methods=["POST"]),
            Route("/authorize", self.authorize, methods=["GET", "POST"]),
            Route("/token", self.token, methods=["POST"]),
            Route("/jwks", self.jwks),
            Route("/revoke", self.revoke, methods=["POST"]),
            Route("/introspect", self.introspect, methods=["POST"]),
        ]

    def add_client(
        self,
        client_id: str,
        secret: str | None,
        redirect_uris: list[str],
        *,
        name: str = "pre-registered client",
    ) -> None:
        """Pre-register a client (`client_secret_basic` with a secret, else public)."""
        method = "client_secret_basic" if secret else "none"
        grants = ["authorization_code", "refresh_token", "client_credentials"]
        self.clients[client_id] = _Client(client_id, secret, method, redirect_uris, grants, name)

    # ---- discovery and keys -------------------------------------------------------------

    async def metadata(self, request: Request) -> Response:
        base = self.issuer
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/token",
                "registration_endpoint": f"{base}/register",
                "jwks_uri": f"{base}/jwks",
                "revocation_endpoint": f"{base}/revoke",
                "introspection_endpoint": f"{base}/introspect",
                "response_types_supported": ["code"],
                "grant_types_supported": [
                    "authorization_code",
                    "refresh_token",
                    "client_credentials",
                ],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                    "none",
                ],
                "scopes_supported": self.scopes,
                "authorization_response_iss_parameter_supported": True,
                "client_id_metadata_document_supported": True,
            }
        )

    async def jwks(self, request: Request) -> Response:
        public = jwt.algorithms.ECAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return JSONResponse({"keys": [{**public, "kid": self._kid, "alg": "ES256", "use": "sig"}]})

    # ---- registration -------------------------------------------------------------------

    async def register(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return _oauth_error("invalid_client_metadata", "the body is not JSON")
        uris = body.get("redirect_uris") if isinstance(body, dict) else None
        if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
            return _oauth_error("invalid_redirect_uri", "redirect_uris must be a non-empty list")
        if not all(_redirect_ok(uri) for uri in uris):
            why = "redirect URIs must be https, or http on a loopback host"
            return _oauth_error("invalid_redirect_uri", why)
        method = body.get("token_endpoint_auth_method", "client_secret_basic")
        if method not in ("none", "client_secret_basic", "client_secret_post"):
            return _oauth_error("invalid_client_metadata", f"unsupported auth method {method}")
        grants = body.get("grant_types") or ["authorization_code"]
        if not isinstance(grants, list) or not all(g in _GRANTS for g in grants):
            why = f"grant_types must be a list of {', '.join(_GRANTS)}"
            return _oauth_error("invalid_client_metadata", why)
        if "client_credentials" in grants and method == "none":
            why = "client_credentials needs a confidential client"
            return _oauth_error("invalid_client_metadata", why)
        client = _Client(
            client_id=secrets.token_urlsafe(12),
            secret=None if method == "none" else secrets.token_urlsafe(24),
            method=method,
            redirect_uris=list(uris),
            grant_types=[g for g in grants if isinstance(g, str)],
            name=str(body.get("client_name") or "unnamed client"),
        )
        self.clients[client.client_id] = client
        answer = {
            **body,
            "client_id": client.client_id,
            "client_id_issued_at": int(time.time()),
            "token_endpoint_auth_method": method,
            "grant_types": client.grant_types,
        }
        if client.secret is not None:
            answer.update(client_secret=client.secret, client_secret_expires_at=0)
        return JSONResponse(answer, 201)

    # ---- authorization --------------------------------------------------------------------

    async def authorize(self, request: Request) -> Response:
        if request.method == "POST":
            return await self._decide(request)
        query = dict(request.query_params)
        client = self.clients.get(query.get("client_id", "")) or await self._document_client(
            query.get("client_id", "")
        )
        if client is None or not _redirect_matches(
            query.get("redirect_uri", ""), client.redirect_uris
        ):
            why = "unknown client, or a redirect_uri it did not register"
            return HTMLResponse(f"<p>Authorization refused: {why}.</p>", 400)
        if query.get("response_type") != "code":
            return self._back(query, error="unsupported_response_type")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return self._back(query, error="invalid_request", description="PKCE S256 is required")
        if "resource" in query and not _resource_ok(query["resource"]):
            why = "resource must be an absolute URI without a fragment"
            return self._back(query, error="invalid_target", description=why)
        unknown = [s for s in query.get("scope", "").split() if s not in self.scopes]
        if unknown:
            return self._back(query, error="invalid_scope", description=" ".join(unknown))
        if self.auto_approve:
            return self._approve(query)
        csrf = secrets.token_urlsafe(16)
        self._consents[csrf] = query
        if len(self._consents) > _PENDING_CONSENTS:
            del self._consents[next(iter(self._consents))]
        page = self._consent_page(client, query, csrf)
        return HTMLResponse(page, headers={**_NO_STORE, **_FRAMING})

    async def _document_client(self, url: str) -> _Client | None:
        """A client identified by its metadata document's URL (CIMD), fetched now: https
        with a path (http too, and private addresses, only with `allow_private_cimd`), at
        most 64 KB, no redirects, and `client_id` in it must be the URL itself."""
        parts = urllib.parse.urlsplit(url)
        secure = parts.scheme == "https" or (self.allow_private_cimd and parts.scheme == "http")
        if not secure or parts.path in ("", "/") or not parts.hostname:
            return None
        if not self.allow_private_cimd and not await _public_host(parts.hostname):
            return None  # the SSRF guard: never fetch from inside the network
        import httpx

        try:
            document = json.loads(await _capped_get(url))
        except (httpx.HTTPError, ValueError):
            return None
        uris = document.get("redirect_uris") if isinstance(document, dict) else None
        if not isinstance(uris, list) or document.get("client_id") != url:
            return None
        if document.get("token_endpoint_auth_method", "none") != "none":
            return None  # a document cannot hold a secret; private_key_jwt is not offered
        name = str(document.get("client_name") or url)
        grants = ["authorization_code", "refresh_token"]
        client = _Client(url, None, "none", [u for u in uris if isinstance(u, str)], grants, name)
        self._documents[url] = client  # for the token endpoint
        return client

    def _consent_page(self, client: _Client, query: dict[str, str], csrf: str) -> str:
        host = urllib.parse.urlsplit(query["redirect_uri"]).netloc
        scopes = query.get("scope") or "(none)"
        resource = query.get("resource") or "(any)"
        return (
            "<!doctype html><meta charset=utf-8><title>Authorize</title>"
            "<p><b>Development server — not for production.</b></p>"
            f"<p><b>{html.escape(client.name)}</b> (returning to <b>{html.escape(host)}</b>) "
            f"asks for: {html.escape(scopes)}<br>on: {html.escape(resource)}</p>"
            '<form method=post action="authorize">'
            f'<input type=hidden name=csrf value="{csrf}">'
            "<button name=decision value=approve>Approve</button> "
            "<button name=decision value=deny>Deny</button></form>"
        )

    async def _decide(self, request: Request) -> Response:
        form = await request.form()
        query = self._consents.pop(str(form.get("csrf", "")), None)
        if query is None:
            return HTMLResponse("<p>This consent form expired or was already used.</p>", 400)
        if form.get("decision") != "approve":
            return self._back(query, error="access_denied")
        return self._approve(query)

    def _approve(self, query: dict[str, str]) -> Response:
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Code(
            client_id=query["client_id"],
            redirect_uri=query["redirect_uri"],
            challenge=query["code_challenge"],
            scopes=query.get("scope", "").split(),
            resource=query.get("resource"),
        )
        return self._back(query, code=code)

    def _back(self, query: dict[str, str], **params: str) -> Response:
        """Redirect to the (already checked) redirect URI with `params`, `state`, `iss`."""
        if "description" in params:
            params["error_description"] = params.pop("description")
        if "state" in query:
            params["state"] = query["state"]
        params["iss"] = self.issuer
        uri = query["redirect_uri"]
        separator = "&" if "?" in uri else "?"
        return RedirectResponse(f"{uri}{separator}{urllib.parse.urlencode(params)}", 302)

    # ---- tokens -------------------------------------------------------------------------

    def _client_of(self, request: Request, form: dict[str, str]) -> _Client | None:
        """The authenticated client of a token/introspection request, per its method."""
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                pair = base64.b64decode(encoded).decode()
            except ValueError:
                return None
            raw_id, _, raw_secret = pair.partition(":")
            client_id, secret = urllib.parse.unquote(raw_id), urllib.parse.unquote(raw_secret)
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        client = self.clients.get(client_id) or self._documents.get(client_id)
        if client is None:
            return None
        if client.secret is None:
            return client if scheme.lower() != "basic" else None
        return client if secrets.compare_digest(secret or "", client.secret) else None

    async def token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        client = self._client_of(request, form)
        if client is None:
            return _oauth_error("invalid_client", "client authentication failed", 401)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            return self._redeem_code(client, form)
        if grant == "refresh_token":
            return self._redeem_refresh(client, form)
        if grant == "client_credentials":
            if client.secret is None:
                return _oauth_error("unauthorized_client", "public clients cannot use this grant")
            scopes = form.get("scope", "").split()
            resource = form.get("resource")
            return self._issue(client, scopes, resource, refresh=False, subject=client.client_id)
        return _oauth_error("unsupported_grant_type", f"{grant!r} is not supported here")

    def _redeem_code(self, client: _Client, form: dict[str, str]) -> Response:
        code = self._codes.pop(form.get("code", ""), None)  # single use, whatever happens
        if code is None or code.client_id != client.client_id or code.expires < time.time():
            return _oauth_error("invalid_grant", "unknown, used or expired code")
        if form.get("redirect_uri") != code.redirect_uri:
            return _oauth_error("invalid_grant", "redirect_uri does not match the authorization")
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != code.challenge:
            return _oauth_error("invalid_grant", "the PKCE verifier does not match")
        if form.get("resource", code.resource) != code.resource:
            return _oauth_error("invalid_target", "resource differs from the authorization's")
        resource = code.resource
        refresh = "offline_access" in code.scopes or "refresh_token" in client.grant_types
        return self._issue(client, code.scopes, resource, refresh=refresh, subject="user")

    def _redeem_refresh(self, client: _Client, form: dict[str, str]) -> Response:
        old = self._refresh.get(form.get("refresh_token", ""))
        if old is None or old.client_id != client.client_id:
            return _oauth_error("invalid_grant", "unknown or already used refresh token")
        if form.get("resource", old.resource) != old.resource:
            return _oauth_error("invalid_target", "resource differs from the authorization's")
        del self._refresh[form["refresh_token"]]  # rotated: used once
        return self._issue(client, old.scopes, old.resource, refresh=True, subject="user")

    def _issue(
        self,
        client: _Client,
        scopes: list[str],
        resource: str | None,
        *,
        refresh: bool,
        subject: str,
    ) -> Response:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": resource or self.issuer,
            "iat": now,
            "exp": now + self.access_token_ttl,
            "jti": secrets.token_urlsafe(12),
            "client_id": client.client_id,
            "scope": " ".join(scopes),
        }
        token = jwt.encode(claims, self._key, algorithm="ES256", headers={"kid": self._kid})
        body: dict[str, Any] = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.access_token_ttl,
            "scope": " ".join(scopes),
        }
        if refresh:
            value = secrets.token_urlsafe(32)
            self._refresh[value] = _Refresh(client.client_id, scopes, resource)
            body["refresh_token"] = value
        return JSONResponse(body, headers=_NO_STORE)

    # ---- revocation and introspection -------------------------------------------------------

    def _claims(self, token: str) -> dict[str, Any] | None:
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self._key.public_key(), algorithms=["ES256"], options={"verify_aud": False}
            )
        except jwt.PyJWTError:
            return None
        return None if claims.get("jti") in self._revoked else claims

    async def revoke(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        client = self._client_of(request, form)
        if client is None:  # RFC 7009 §2.1: the client authenticates, and revokes its own
            return _oauth_error("invalid_client", "revocation needs client authentication", 401)
        token = form.get("token", "")
        refresh = self._refresh.get(token)
        if refresh is not None and refresh.client_id == client.client_id:
            del self._refresh[token]
        claims = self._claims(token)
        if claims is not None and claims.get("client_id") == client.client_id:
            self._revoked.add(str(claims["jti"]))
        return Response(status_code=200)  # RFC 7009 §2.2: whatever the token was

    async def introspect(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        if self._client_of(request, form) is None:
            why = "introspection needs client authentication"
            return _oauth_error("invalid_client", why, 401)
        claims = self._claims(form.get("token", ""))
        if claims is None:
            return JSONResponse({"active": False})
        return JSONResponse({"active": True, "token_type": "Bearer", **claims})


async def _capped_get(url: str) -> bytes:
    """GET `url` without following redirects; the body, refused past `_DOCUMENT_LIMIT`
    bytes while it streams (never read whole first).

    Raises:
        ValueError: not a 200, or too large.
    """
    import httpx

    async with (
        httpx.AsyncClient(timeout=5, follow_redirects=False) as http,
        http.stream("GET", url, headers={"Accept": "application/json"}) as response,
    ):
        if response.status_code != 200:
            raise ValueError(f"HTTP {response.status_code}")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > _DOCUMENT_LIMIT:
                raise ValueError("the document is too large")
    return bytes(body)


async def _public_host(host: str) -> bool:
    """Whether every address `host` resolves to is public (not loopback, private,
    link-local, reserved or multicast)."""
    import ipaddress
    import socket

    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False
    addresses = {ipaddress.ip_address(info[4][0]) for info in infos}
    return bool(addresses) and all(address.is_global for address in addresses)


def dev_authorization_server(issuer: str, **options: Any) -> Starlette:
    """The development authorization server's ASGI app for `issuer` (its public base URL);
    `options` go to `DevAuthorizationServer`. NOT FOR PRODUCTION (see the module)."""
    return DevAuthorizationServer(issuer, **options).app
