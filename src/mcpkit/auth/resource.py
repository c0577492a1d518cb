"""An MCP server protecting itself: bearer tokens checked, the caller known to handlers.

Layer: auth. `http_app(server, auth=ResourceServer(...))` makes every MCP request carry an
access token (spec basic/authorization, both eras):

- no token, or one the verifier refuses → `401` with `WWW-Authenticate: Bearer
  resource_metadata="…/.well-known/oauth-protected-resource/<path>"` (and the scopes every
  request needs, and `error="invalid_token"` when one was sent);
- a token without a scope the request needs (`required_scopes`, or a tool's `scopes`) →
  `403` with `error="insufficient_scope"` and the scopes to ask for (step-up);
- RFC 9728 metadata is served at the path-aware well-known URL and at the root.

A token is good when its verifier says so: `JWTVerifier` checks the signature against the
authorization server's JWKS, the issuer, the expiry, and that its audience names this
server (RFC 8707: a token for another resource is refused); `IntrospectionVerifier` asks
the authorization server (RFC 7662). Handlers see the caller as `ctx.auth` (an
`caller.AccessToken`: subject, client, scopes, claims) — never the token itself, which
must not be passed on to other services (spec §Token Passthrough).
"""

from __future__ import annotations

__all__ = [
    "AccessToken",
    "IntrospectionVerifier",
    "JWTVerifier",
    "ResourceServer",
    "TokenVerifier",
]

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from mcpkit.auth.caller import AccessToken

logger = logging.getLogger(__name__)


@runtime_checkable
class TokenVerifier(Protocol):
    """Checks an access token for `resource`; None when it is not good (any reason)."""

    async def verify(self, token: str, resource: str) -> AccessToken | None: ...


def _scopes(claims: dict[str, Any]) -> frozenset[str]:
    scope = claims.get("scope", claims.get("scp"))
    if isinstance(scope, str):
        return frozenset(scope.split())
    if isinstance(scope, list):
        return frozenset(s for s in scope if isinstance(s, str))
    return frozenset()


def _audiences(claims: dict[str, Any]) -> tuple[str, ...]:
    aud = claims.get("aud")
    if isinstance(aud, str):
        return (aud,)
    if isinstance(aud, list):
        return tuple(a for a in aud if isinstance(a, str))
    return ()


def _access(claims: dict[str, Any]) -> AccessToken:
    exp = claims.get("exp")
    client = claims.get("client_id", claims.get("azp"))
    return AccessToken(
        subject=claims.get("sub") if isinstance(claims.get("sub"), str) else None,
        client_id=client if isinstance(client, str) else None,
        scopes=_scopes(claims),
        expires_at=float(exp) if isinstance(exp, int | float) else None,
        issuer=claims.get("iss") if isinstance(claims.get("iss"), str) else None,
        audience=_audiences(claims),
        claims=claims,
    )


def _same_resource(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


class JWTVerifier:
    """JWT access tokens signed by the authorization server (keys from its JWKS, fetched
    on first use and again when a token names an unknown key, at most once a minute).

    Args:
        issuer: the `iss` every token must carry.
        jwks_url: where the signing keys are; or `key` for one fixed public key (PEM).
        algorithms: accepted signature algorithms (never `none` or an HMAC).
        leeway: seconds of clock skew tolerated on `exp`/`iat`/`nbf`.
    """

    def __init__(
        self,
        issuer: str,
        *,
        jwks_url: str | None = None,
        key: str | None = None,
        algorithms: Sequence[str] = ("ES256", "RS256", "PS256", "EdDSA"),
        leeway: float = 30.0,
    ) -> None:
        if (jwks_url is None) == (key is None):
            raise ValueError("give exactly one of jwks_url and key")
        self.issuer = issuer
        self._jwks_url = jwks_url
        self._key = key
        self._algorithms = list(algorithms)
        self._leeway = leeway
        self._keys: dict[str, Any] = {}
        self._fetched = 0.0

    async def _signing_key(self, kid: str | None) -> Any:
        if self._key is not None:
            return self._key
        if kid not in self._keys and time.monotonic() - self._fetched > 60:
            await self._fetch_keys()
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return self._keys.get(kid or "")

    async def _fetch_keys(self) -> None:
        import httpx
        import jwt

        assert self._jwks_url is not None
        self._fetched = time.monotonic()
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                document = (await http.get(self._jwks_url)).json()
            keys = jwt.PyJWKSet.from_dict(document).keys
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
            logger.warning("cannot load the signing keys at %s: %r", self._jwks_url, exc)
            return
        self._keys = {key.key_id or "": key.key for key in keys}

    async def verify(self, token: str, resource: str) -> AccessToken | None:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
            key = await self._signing_key(header.get("kid"))
            if key is None:
                return None
            claims = jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                issuer=self.issuer,
                options={"require": ["exp", "iss"], "verify_aud": False},
                leeway=self._leeway,
            )
        except jwt.PyJWTError as exc:
            logger.info("refused a token: %s", exc)
            return None
        access = _access(claims)
        if not any(_same_resource(aud, resource) for aud in access.audience):
            logger.info("refused a token for %s (this is %s)", access.audience, resource)
            return None
        return access


class IntrospectionVerifier:
    """Opaque tokens, checked by asking the authorization server (RFC 7662), with this
    resource server's own client credentials. One HTTP client (kept-alive connections) for
    the verifier's life: this runs on every request."""

    def __init__(self, endpoint: str, client_id: str, client_secret: str) -> None:
        self.endpoint = endpoint
        self._auth = (client_id, client_secret)
        self._http: Any = None

    async def verify(self, token: str, resource: str) -> AccessToken | None:
        import httpx

        if self._http is None:
            self._http = httpx.AsyncClient(timeout=10)
        try:
            response = await self._http.post(self.endpoint, data={"token": token}, auth=self._auth)
            claims = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            logger.warning("introspection at %s failed: %r", self.endpoint, exc)
            return None
        if response.status_code != 200 or not isinstance(claims, dict) or not claims.get("active"):
            return None
        access = _access(claims)
        if access.expires_at is not None and access.expires_at < time.time():
            return None
        if access.audience and not any(_same_resource(a, resource) for a in access.audience):
            return None
        return access


@dataclass
class ResourceServer:
    """How an HTTP app protects its MCP endpoint (see the module docstring).

    Args:
        verifier: checks each token.
        authorization_servers: the issuers that grant tokens for this server (RFC 9728).
        resource: this server's canonical URL (the token audience); default: the URL the
            request came to (scheme, Host and path) — set it behind a proxy.
        scopes_supported: advertised in the metadata (never `offline_access`).
        required_scopes: scopes every request needs; tools may need more (`scopes=`).
        resource_name: a human-readable name for the metadata.
    """

    verifier: TokenVerifier
    authorization_servers: list[str]
    resource: str | None = None
    scopes_supported: list[str] | None = None
    required_scopes: list[str] = field(default_factory=list)
    resource_name: str | None = None

    def metadata(self, resource: str) -> dict[str, Any]:
        """The RFC 9728 document for `resource`."""
        document: dict[str, Any] = {
            "resource": resource,
            "authorization_servers": list(self.authorization_servers),
            "bearer_methods_supported": ["header"],
        }
        if self.scopes_supported is not None:
            document["scopes_supported"] = [
                s for s in self.scopes_supported if s != "offline_access"
            ]
        if self.resource_name is not None:
            document["resource_name"] = self.resource_name
        return document


def challenge(
    metadata_url: str,
    *,
    error: str | None = None,
    scopes: Sequence[str] = (),
    description: str | None = None,
) -> str:
    """A `WWW-Authenticate: Bearer …` value (RFC 6750 §3, RFC 9728 §5.1)."""
    params = [f'resource_metadata="{metadata_url}"']
    if error is not None:
        params.insert(0, f'error="{error}"')
    wanted = [s for s in scopes if s != "offline_access"]
    if wanted:
        params.append(f'scope="{" ".join(wanted)}"')
    if description is not None:
        params.append('error_description="{}"'.format(description.replace('"', "'")))
    return "Bearer " + ", ".join(params)
