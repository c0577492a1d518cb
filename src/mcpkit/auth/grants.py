"""Getting a token without a browser: the machine-to-machine grants of the auth extensions.

Layer: auth. `OAuth(grant=...)` uses one of these instead of the authorization-code flow
when the server's 401 comes (discovery, `resource` and scope selection stay the same):

- `ClientCredentials` (`io.modelcontextprotocol/oauth-client-credentials`, SEP-1046):
  `grant_type=client_credentials`, authenticated with a client secret (`client_secret_basic`)
  or a signed assertion (`private_key_jwt`, RFC 7523 §2.2: iss = sub = client id, aud = the
  authorization server's issuer);
- `JwtBearer` (workload identity federation, SEP-1933; RFC 7523 §2.1): a JWT the workload
  already holds (from its platform) is the grant's `assertion`;
- `EnterpriseManaged` (`io.modelcontextprotocol/enterprise-managed-authorization`, SEP-990):
  the enterprise IdP exchanges the user's ID token for an ID-JAG (RFC 8693), which the MCP
  authorization server takes as a JWT-bearer grant.

A refusal is surfaced as `TokenError`, never retried with another grant (SEP-1933).
"""

from __future__ import annotations

__all__ = [
    "ClientCredentials",
    "EnterpriseManaged",
    "Grant",
    "JwtBearer",
    "client_assertion",
]

import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from mcpkit.protocol.errors import TokenError

if TYPE_CHECKING:
    import httpx

    from mcpkit.auth.discovery import ServerMetadata

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
ID_JAG_TYPE = "urn:ietf:params:oauth:token-type:id-jag"


class Grant(Protocol):
    """The token request of a browserless grant: the form (without client authentication)
    and the client identity that authenticates it (`client_id`, `client_secret`,
    `method`, and for `private_key_jwt` the `private_key` and `algorithm`)."""

    async def request(
        self, server: ServerMetadata, resource: str, http: httpx.AsyncClient
    ) -> tuple[dict[str, str], dict[str, Any]]: ...


def client_assertion(identity: dict[str, Any], audience: str) -> str:
    """An RFC 7523 client assertion for `private_key_jwt`: iss = sub = the client id,
    aud = the authorization server, valid for five minutes, unique `jti`."""
    import jwt

    now = int(time.time())
    claims = {
        "iss": identity["client_id"],
        "sub": identity["client_id"],
        "aud": audience,
        "iat": now,
        "exp": now + 300,
        "jti": secrets.token_urlsafe(16),
    }
    algorithm = identity.get("algorithm") or "ES256"
    return jwt.encode(claims, identity["private_key"], algorithm=algorithm)


@dataclass
class ClientCredentials:
    """`client_credentials` with a secret (basic auth) or a private key (PEM)."""

    client_id: str
    client_secret: str | None = None
    private_key: str | None = None
    algorithm: str = "ES256"

    async def request(
        self, server: ServerMetadata, resource: str, http: httpx.AsyncClient
    ) -> tuple[dict[str, str], dict[str, Any]]:
        form = {"grant_type": "client_credentials", "resource": resource}
        identity: dict[str, Any]
        if self.private_key is not None:
            identity = {
                "client_id": self.client_id,
                "method": "private_key_jwt",
                "private_key": self.private_key,
                "algorithm": self.algorithm,
            }
        else:
            identity = {
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "method": "client_secret_basic" if self.client_secret else "none",
            }
        return form, identity


@dataclass
class JwtBearer:
    """The RFC 7523 JWT-bearer grant with a workload's JWT (a string, or a callable that
    fetches a fresh one, e.g. from the platform's token file)."""

    assertion: str | Callable[[], Awaitable[str]]
    client_id: str | None = None

    async def request(
        self, server: ServerMetadata, resource: str, http: httpx.AsyncClient
    ) -> tuple[dict[str, str], dict[str, Any]]:
        assertion = self.assertion if isinstance(self.assertion, str) else await self.assertion()
        form = {"grant_type": JWT_BEARER, "assertion": assertion, "resource": resource}
        return form, {"client_id": self.client_id, "method": "none"}


@dataclass
class EnterpriseManaged:
    """SEP-990: the IdP's token exchange (ID token → ID-JAG), then the JWT-bearer grant at
    the MCP authorization server, authenticated with this client's secret."""

    idp_token_endpoint: str
    idp_client_id: str
    id_token: str
    client_id: str
    client_secret: str

    async def request(
        self, server: ServerMetadata, resource: str, http: httpx.AsyncClient
    ) -> tuple[dict[str, str], dict[str, Any]]:
        import httpx

        exchange = {
            "grant_type": TOKEN_EXCHANGE,
            "subject_token": self.id_token,
            "subject_token_type": ID_TOKEN_TYPE,
            "requested_token_type": ID_JAG_TYPE,
            "audience": server.issuer,
            "resource": resource,
            "client_id": self.idp_client_id,
        }
        try:
            response = await http.post(self.idp_token_endpoint, data=exchange)
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise TokenError(f"the token exchange at {self.idp_token_endpoint} failed") from exc
        jag = body.get("access_token") if isinstance(body, dict) else None
        if response.status_code != 200 or not isinstance(jag, str):
            raise TokenError(f"the IdP refused the token exchange: {body}")
        form = {"grant_type": JWT_BEARER, "assertion": jag, "resource": resource}
        identity = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "method": "client_secret_basic",
        }
        return form, identity
