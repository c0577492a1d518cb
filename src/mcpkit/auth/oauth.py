"""The OAuth 2.1 client of an MCP connection over HTTP: `OAuth`.

Layer: auth. An `OAuth` is handed to the HTTP transport (`Client(url, auth=OAuth(...))`),
which asks it for headers before each request and tells it about each 401 and 403. On a
401 it finds the authorization server (`discovery`), gets a client identity, runs the
authorization-code flow with PKCE S256 through a `RedirectHandler`, and redeems the code;
the transport then sends the request again. What the spec requires along the way
(2025-11-25 and 2026-07-28 basic/authorization):

- `resource` (RFC 8707) on the authorization, token and refresh requests;
- scope: the challenge's `scope`, else the PRM's `scopes_supported`, else none; plus
  `offline_access` when the server lists it; on `403 insufficient_scope` the union of what was
  asked before and what is challenged, at most `max_step_ups` times;
- client identity, in order: what the store holds for this issuer, pre-registration
  (`client_id`, bound to `issuer` when given), a Client ID Metadata Document
  (`client_metadata_url`, if the server supports them), Dynamic Client Registration with
  `application_type`; registrations are stored per issuer, so a new server means a new one;
- the callback's `iss` (RFC 9207) is checked before anything else in it, by exact string
  comparison, when the server advertises it or sends it; `state` must match;
- tokens are kept with an absolute expiry and refreshed a little before it, or on a 401.
"""

from __future__ import annotations

__all__ = ["OAuth"]

import base64
import hashlib
import logging
import secrets
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, final

import anyio

from mcpkit.auth.challenge import Challenge, parse_challenges
from mcpkit.auth.discovery import (
    ResourceMetadata,
    ServerMetadata,
    canonical_resource,
    find_resource_metadata,
    find_server_metadata,
    legacy_server_metadata,
)
from mcpkit.auth.dpop import DPoPKey
from mcpkit.auth.grants import ASSERTION_TYPE, Grant, client_assertion
from mcpkit.auth.redirects import HeadlessRedirect, RedirectHandler
from mcpkit.auth.store import MemoryTokenStore, TokenStore, registration_key, tokens_key
from mcpkit.protocol.errors import OAuthFlowError, TokenError

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger(__name__)

_REFRESH_LEEWAY = 30.0  # seconds before expiry at which a token is refreshed first
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
_SECRET_METHODS = ("client_secret_basic", "client_secret_post")


def pkce_pair() -> tuple[str, str]:
    """A PKCE verifier and its S256 challenge (RFC 7636 §4.1-4.2)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class _Target:
    """Who authorizes the server, found on the first 401."""

    resource: str
    server: ServerMetadata
    prm: ResourceMetadata | None


@final
class OAuth:
    """OAuth 2.1 for one MCP server URL (see the module docstring).

    Args:
        redirect: the browser step (default: `HeadlessRedirect`, which works only with
            servers that approve without a person; the CLI passes `LoopbackRedirect`).
        client_id, client_secret: a pre-registered client (or `private_key`, a PEM, to
            authenticate with `private_key_jwt`, RFC 7523); `issuer` binds it to the
            authorization server it was registered with (another one is refused).
        client_metadata_url: an https URL of this client's metadata document (CIMD).
        client_name: shown on consent pages; sent in registrations.
        scopes: ask for exactly these instead of choosing (see the module docstring).
        token_endpoint_auth_method: force one (`none`, `client_secret_basic`, `..._post`).
        store: where registrations and tokens live (default: memory).
        max_step_ups: re-authorizations for `403 insufficient_scope` before giving up.
        grant: get tokens without a browser (`grants.ClientCredentials`, `JwtBearer`,
            `EnterpriseManaged`) instead of the authorization-code flow.
        dpop: bind tokens to a key of this client (RFC 9449, `dpop`); by default when the
            authorization server advertises ES256 in `dpop_signing_alg_values_supported`.
    """

    def __init__(
        self,
        *,
        redirect: RedirectHandler | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        private_key: str | None = None,
        issuer: str | None = None,
        client_metadata_url: str | None = None,
        client_name: str = "mcpkit",
        scopes: list[str] | None = None,
        token_endpoint_auth_method: str | None = None,
        store: TokenStore | None = None,
        max_step_ups: int = 2,
        grant: Grant | None = None,
        dpop: bool | None = None,
    ) -> None:
        self._grant = grant
        self._use_dpop = dpop
        self._dpop: DPoPKey | None = None
        self.redirect = redirect if redirect is not None else HeadlessRedirect()
        self._client_id = client_id
        self._client_secret = client_secret
        self._private_key = private_key
        self._bound_issuer = issuer
        self._metadata_url = client_metadata_url
        self._client_name = client_name
        self._fixed_scopes = scopes
        self._auth_method = token_endpoint_auth_method
        self.store: TokenStore = store if store is not None else MemoryTokenStore()
        self._max_step_ups = max_step_ups
        self._step_ups = 0
        self._lock = anyio.Lock()
        self._http: httpx.AsyncClient | None = None
        self._target: _Target | None = None
        self._tokens: dict[str, Any] | None = None
        self._asked: list[str] | None = None  # the scopes of the last authorization

    # ---- what the transport calls -----------------------------------------------------

    async def headers(self, method: str, url: str) -> dict[str, str]:
        """`Authorization` for a request to `url`, refreshing a token about to expire."""
        tokens = self._tokens
        if tokens is None and self._target is None:
            return {}
        if tokens is not None and _expiring(tokens) and tokens.get("refresh_token"):
            async with self._lock:
                if self._tokens is tokens:
                    await self._refresh_quietly()
            tokens = self._tokens
        if tokens is None:
            return {}
        token = tokens["access_token"]
        if self._dpop is not None and tokens.get("token_type", "").lower() == "dpop":
            return {"Authorization": f"DPoP {token}", "DPoP": self._dpop.proof(method, url, token)}
        return {"Authorization": f"Bearer {token}"}

    async def challenged(
        self, status: int, headers: Mapping[str, str], url: str, sent: Mapping[str, str]
    ) -> bool:
        """A 401 or 403 for a request to `url` that carried `sent`: True if there are new
        credentials to send it again with.

        Raises:
            OAuthFlowError: authorization could not be obtained (discovery, registration,
                the user's refusal, a forged callback).
            TokenError: the token endpoint refused.
        """
        challenges = parse_challenges(headers.get("www-authenticate", ""))
        challenge = _bearer(challenges)
        async with self._lock:
            if self._dpop is not None and _wants_nonce(challenges, headers):
                self._dpop.note_nonce(url, headers.get("dpop-nonce"))
                return True  # a resource server's nonce: the next proof carries it
            current = self._tokens["access_token"] if self._tokens else None
            if current is not None and _token_in(sent) != current:
                return True  # another request already got new credentials
            if status == 403:
                return await self._step_up(challenge, url)
            if status != 401:
                return False
            refreshable = self._tokens is not None and self._tokens.get("refresh_token")
            if refreshable and await self._refresh_quietly():
                return True
            target = await self._find(challenge, url)
            if self._tokens is None and await self._reuse_stored(target, sent):
                return True
            await self._authorize(challenge, url, self._fixed_scopes or challenge.scopes, target)
            return True

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # ---- the flow ---------------------------------------------------------------------

    async def _step_up(self, challenge: Challenge, url: str) -> bool:
        if challenge.params.get("error") != "insufficient_scope":
            return False
        if self._step_ups >= self._max_step_ups:
            logger.warning("%s: still insufficient_scope after %d step-ups", url, self._step_ups)
            return False
        self._step_ups += 1
        wanted = list(dict.fromkeys([*(self._asked or []), *(challenge.scopes or [])]))
        await self._authorize(challenge, url, wanted or None)
        return True

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            import httpx

            self._http = httpx.AsyncClient(timeout=30, follow_redirects=False)
        return self._http

    async def _find(self, challenge: Challenge, url: str) -> _Target:
        http = self._client()
        prm = await find_resource_metadata(http, url, challenge.params.get("resource_metadata"))
        if prm is None:  # a 2025-03-26 server: its origin authorizes
            server = await legacy_server_metadata(http, url)
            return _Target(canonical_resource(url), server, None)
        server = await find_server_metadata(http, prm.authorization_servers[0])
        return _Target(prm.resource, server, prm)

    def _scopes(self, target: _Target, challenged: list[str] | None) -> list[str] | None:
        scopes = challenged
        if scopes is None and target.prm is not None:
            scopes = target.prm.scopes_supported
        offered = target.server.strings("scopes_supported") or []
        if scopes is not None and "offline_access" in offered and "offline_access" not in scopes:
            scopes = [*scopes, "offline_access"]
        return scopes or None

    async def _reuse_stored(self, target: _Target, sent: Mapping[str, str]) -> bool:
        """Take tokens an earlier run stored for this server, unless they are what was just
        refused; refresh them if they expired. True if there is something to send."""
        stored = await self.store.load(tokens_key(target.server.issuer, target.resource))
        if stored is None or _token_in(sent) == stored.get("access_token"):
            return False
        self._target, self._tokens = target, stored
        if not _expiring(stored):
            return True
        return bool(stored.get("refresh_token")) and await self._refresh_quietly()

    async def _authorize(
        self,
        challenge: Challenge,
        url: str,
        scopes: list[str] | None,
        target: _Target | None = None,
    ) -> None:
        self._target = target = target or await self._find(challenge, url)
        server = target.server
        dpop_algs = server.strings("dpop_signing_alg_values_supported") or []
        if self._dpop is None and (
            self._use_dpop or (self._use_dpop is None and "ES256" in dpop_algs)
        ):
            self._dpop = DPoPKey()
        if self._grant is not None:
            self._asked = self._scopes(target, scopes)
            form, identity = await self._grant.request(server, target.resource, self._client())
            if self._asked:
                form["scope"] = " ".join(self._asked)
            await self._redeem(form, identity)
            return
        if "S256" not in (server.strings("code_challenge_methods_supported") or []):
            raise OAuthFlowError(
                f"{server.issuer} does not advertise PKCE S256 (code_challenge_methods_supported)"
            )
        if server.authorization_endpoint is None:
            raise OAuthFlowError(f"{server.issuer} has no authorization_endpoint")
        identity = await self._identity(server)
        self._asked = scopes = self._scopes(target, scopes)
        verifier, code_challenge = pkce_pair()
        state = secrets.token_urlsafe(24)
        query = {
            "response_type": "code",
            "client_id": identity["client_id"],
            "redirect_uri": self.redirect.redirect_uri,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
            "resource": target.resource,
        }
        if scopes:
            query["scope"] = " ".join(scopes)
        separator = "&" if "?" in server.authorization_endpoint else "?"
        location = f"{server.authorization_endpoint}{separator}{urllib.parse.urlencode(query)}"
        code = _code_from(await self.redirect.authorize(location), server, state)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect.redirect_uri,
            "code_verifier": verifier,
            "resource": target.resource,
        }
        await self._redeem(form, identity)

    async def _identity(self, server: ServerMetadata) -> dict[str, Any]:
        """This client's identity at `server` (see the module docstring for the order)."""
        if self._client_id is not None:
            return self._preregistered(server)
        key = registration_key(server.issuer)
        stored = await self.store.load(key)
        if stored is not None and isinstance(stored.get("client_id"), str):
            return stored
        if self._metadata_url is not None and server.flag("client_id_metadata_document_supported"):
            return {"client_id": self._metadata_url, "method": "none"}  # portable: not stored
        if server.registration_endpoint is None:
            raise OAuthFlowError(
                f"no way to be a client of {server.issuer}: it offers no registration, the "
                "server does not accept client metadata documents, and no client_id was given"
            )
        identity = await self._register(server)
        await self.store.save(key, identity)
        return identity

    def _preregistered(self, server: ServerMetadata) -> dict[str, Any]:
        """The identity given to the constructor (never stored: it lives in the caller's
        configuration, private keys included)."""
        if self._bound_issuer is not None and self._bound_issuer != server.issuer:
            raise OAuthFlowError(
                f"the pre-registered client {self._client_id!r} belongs to "
                f"{self._bound_issuer}, and {server.issuer} now authorizes this server"
            )
        if self._private_key is not None:
            return {
                "client_id": self._client_id,
                "method": "private_key_jwt",
                "private_key": self._private_key,
            }
        return {
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "method": self._auth_method or _method_for(server, self._client_secret),
        }

    async def _register(self, server: ServerMetadata) -> dict[str, Any]:
        """Dynamic Client Registration (RFC 7591)."""
        assert server.registration_endpoint is not None
        method = self._auth_method or _method_for(server, "to be issued")
        host = urllib.parse.urlsplit(self.redirect.redirect_uri).hostname or ""
        request: dict[str, Any] = {
            "client_name": self._client_name,
            "redirect_uris": [self.redirect.redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": method,
            "application_type": "native" if host in _LOOPBACK_HOSTS else "web",
        }
        import httpx

        try:
            response = await self._client().post(server.registration_endpoint, json=request)
        except httpx.HTTPError as exc:
            raise OAuthFlowError(f"registering with {server.issuer} failed: {exc!r}") from exc
        body = _json(response)
        if response.status_code not in (200, 201) or not isinstance(body.get("client_id"), str):
            raise OAuthFlowError(
                f"{server.issuer} refused the registration (HTTP {response.status_code}): "
                f"{_error_text(body)}"
            )
        secret = body.get("client_secret")
        granted = body.get("token_endpoint_auth_method")
        return {
            "client_id": body["client_id"],
            "client_secret": secret if isinstance(secret, str) else None,
            "method": granted if isinstance(granted, str) else method,
        }

    async def _redeem(self, form: dict[str, str], identity: Mapping[str, Any]) -> None:
        """POST to the token endpoint and keep what comes back."""
        assert self._target is not None
        server = self._target.server
        response, body = await self._post_token(server, form, identity)
        if self._dpop is not None and body.get("error") == "use_dpop_nonce":
            self._dpop.note_nonce(server.token_endpoint, response.headers.get("dpop-nonce"))
            response, body = await self._post_token(server, form, identity)
        token = body.get("access_token")
        if response.status_code != 200 or not isinstance(token, str):
            raise TokenError(
                f"{server.token_endpoint} refused ({response.status_code}): {_error_text(body)}"
            )
        tokens: dict[str, Any] = {"access_token": token}
        if isinstance(body.get("token_type"), str):
            tokens["token_type"] = body["token_type"]
        expires_in = body.get("expires_in")
        if isinstance(expires_in, int | float):
            tokens["expires_at"] = time.time() + float(expires_in)
        refresh = body.get("refresh_token")
        if not isinstance(refresh, str) and form["grant_type"] == "refresh_token":
            refresh = form["refresh_token"]  # not rotated: the old one stays good
        if isinstance(refresh, str):
            tokens["refresh_token"] = refresh
        if isinstance(body.get("scope"), str):
            tokens["scope"] = body["scope"]
        self._tokens = tokens
        await self.store.save(tokens_key(server.issuer, self._target.resource), tokens)

    async def _post_token(
        self, server: ServerMetadata, form: Mapping[str, str], identity: Mapping[str, Any]
    ) -> tuple[httpx.Response, dict[str, Any]]:
        """One token request (fresh client assertion and DPoP proof each time)."""
        import httpx

        form, headers = dict(form), {"Accept": "application/json"}
        _authenticate(form, headers, identity, server.issuer)
        if self._dpop is not None:
            headers["DPoP"] = self._dpop.proof("POST", server.token_endpoint)
        try:
            response = await self._client().post(server.token_endpoint, data=form, headers=headers)
        except httpx.HTTPError as exc:
            why = f"the token request to {server.token_endpoint} failed: {exc!r}"
            raise TokenError(why) from exc
        return response, _json(response)

    async def _refresh_quietly(self) -> bool:
        """Refresh the access token; False (and the tokens dropped) if the server refused."""
        if self._tokens is None or self._target is None:
            return False
        if self._grant is not None:  # a browserless grant: just ask again
            _, identity = await self._grant.request(
                self._target.server, self._target.resource, self._client()
            )
        else:
            identity = await self._identity(self._target.server)
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self._tokens["refresh_token"],
            "resource": self._target.resource,
        }
        try:
            await self._redeem(form, identity)
        except TokenError as exc:
            logger.info("refreshing the token failed (%s); authorizing again", exc)
            self._tokens = None
            return False
        return True


# ---- helpers -------------------------------------------------------------------------------


def _bearer(challenges: list[Challenge]) -> Challenge:
    """The challenge that says what to do (Bearer, or DPoP from a DPoP-only server)."""
    for scheme in ("bearer", "dpop"):
        for challenge in challenges:
            if challenge.scheme == scheme:
                return challenge
    return Challenge("bearer")


def _wants_nonce(challenges: list[Challenge], headers: Mapping[str, str]) -> bool:
    return "dpop-nonce" in headers and any(
        c.scheme == "dpop" and c.params.get("error") == "use_dpop_nonce" for c in challenges
    )


def _token_in(sent: Mapping[str, str]) -> str | None:
    """The access token a request carried (`Bearer` or `DPoP` scheme)."""
    _, _, token = sent.get("Authorization", "").partition(" ")
    return token or None


def _expiring(tokens: Mapping[str, Any]) -> bool:
    expires_at = tokens.get("expires_at")
    return isinstance(expires_at, int | float) and expires_at - time.time() < _REFRESH_LEEWAY


def _method_for(server: ServerMetadata, secret: str | None) -> str:
    """The token endpoint auth method to use: one the server supports (RFC 8414 default
    `client_secret_basic`), a secret-based one only with a secret."""
    supported = server.strings("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    if secret is not None:
        for method in _SECRET_METHODS:
            if method in supported:
                return method
    return "none" if "none" in supported or secret is None else supported[0]


def _authenticate(
    form: dict[str, str], headers: dict[str, str], identity: Mapping[str, Any], issuer: str
) -> None:
    """Add the client's authentication to a token request (RFC 6749 §2.3.1; RFC 7523 §2.2
    for `private_key_jwt`, whose assertion's audience is the server's issuer)."""
    client_id, secret = identity["client_id"], identity.get("client_secret")
    method = identity.get("method") or "none"
    if client_id is None:
        return  # a grant that names no client (a workload's JWT bearer)
    if method == "private_key_jwt":
        form["client_assertion_type"] = ASSERTION_TYPE
        form["client_assertion"] = client_assertion(dict(identity), issuer)
        return
    if method == "client_secret_basic" and secret is not None:
        pair = f"{urllib.parse.quote(client_id, safe='')}:{urllib.parse.quote(secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        return
    form["client_id"] = client_id
    if method == "client_secret_post" and secret is not None:
        form["client_secret"] = secret


def _code_from(callback: str, server: ServerMetadata, state: str) -> str:
    """The authorization code in the callback URL, after the RFC 9207 `iss` check (first:
    a callback from the wrong server is not read further), then `state`, then errors."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(callback).query, keep_blank_values=True)
    issuers = query.get("iss")
    advertised = server.flag("authorization_response_iss_parameter_supported")
    if issuers is not None or advertised:
        if issuers is None:
            raise OAuthFlowError(f"{server.issuer} advertises `iss` but the callback has none")
        if issuers != [server.issuer]:
            raise OAuthFlowError(
                f"the callback's iss {issuers} is not {server.issuer!r}: refusing it (RFC 9207)"
            )
    if query.get("state") != [state]:
        raise OAuthFlowError("the callback's state does not match the request's")
    if "error" in query:
        detail = query.get("error_description", [""])[0]
        raise OAuthFlowError(f"authorization refused: {query['error'][0]} {detail}".strip())
    codes = query.get("code")
    if not codes or not codes[0]:
        raise OAuthFlowError("the callback carries no authorization code")
    return codes[0]


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error_text(body: Mapping[str, Any]) -> str:
    error = body.get("error", "no error given")
    description = body.get("error_description")
    return f"{error}: {description}" if description else str(error)
