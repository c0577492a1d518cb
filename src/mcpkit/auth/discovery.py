"""Finding who authorizes an MCP server: protected-resource and authorization-server metadata.

Layer: auth. The order is the spec's (2025-11-25 and 2026-07-28 basic/authorization,
authorization-server-discovery):

1. Protected Resource Metadata (RFC 9728): the URL in the 401's `resource_metadata`, else
   `/.well-known/oauth-protected-resource<path of the MCP URL>`, else the root form. Its
   `resource` must name the server we are talking to (RFC 9728 §3.3), or it is not used.
2. Authorization server metadata for the first of its `authorization_servers`: for an
   issuer with a path, `/.well-known/oauth-authorization-server<path>`,
   `/.well-known/openid-configuration<path>`, `<path>/.well-known/openid-configuration`;
   without one, the OAuth form then the OIDC form. Its `issuer` must be exactly the issuer
   the URL was built from, or it is not used.
3. A server without PRM is a 2025-03-26 server: its origin is the authorization server,
   with metadata at the root, or without metadata the default `/authorize`, `/token` and
   `/register` there.
"""

from __future__ import annotations

__all__ = [
    "ResourceMetadata",
    "ServerMetadata",
    "canonical_resource",
    "find_resource_metadata",
    "find_server_metadata",
    "legacy_server_metadata",
]

import logging
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcpkit.protocol.errors import OAuthFlowError

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResourceMetadata:
    """RFC 9728 metadata of the MCP server (fields MCP uses, plus the document)."""

    resource: str
    authorization_servers: list[str]
    scopes_supported: list[str] | None = None
    document: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ServerMetadata:
    """RFC 8414 / OpenID Connect metadata of an authorization server (the document too)."""

    issuer: str
    authorization_endpoint: str | None
    token_endpoint: str
    registration_endpoint: str | None = None
    document: dict[str, Any] = field(default_factory=dict)

    def strings(self, name: str) -> list[str] | None:
        """A list-of-strings field (`scopes_supported`, `..._methods_supported`), or None."""
        value = self.document.get(name)
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return value
        return None

    def flag(self, name: str) -> bool:
        return self.document.get(name) is True


def canonical_resource(url: str) -> str:
    """The MCP server's resource identifier (RFC 8707): its URL, lower-case scheme and host,
    no fragment, no trailing slash on a bare origin."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc.lower()
    path = parts.path if parts.path != "/" else ""
    return urllib.parse.urlunsplit((parts.scheme.lower(), netloc, path, parts.query, ""))


def _covers(resource: str, server_url: str) -> bool:
    """Whether a PRM `resource` names this server: same origin, and its path is the
    server's path or a parent of it (segment-wise)."""
    want = urllib.parse.urlsplit(canonical_resource(server_url))
    have = urllib.parse.urlsplit(canonical_resource(resource))
    if (want.scheme, want.netloc) != (have.scheme, have.netloc):
        return False
    parent = have.path.rstrip("/")
    return want.path == parent or want.path.startswith(parent + "/")


def _well_known(url: str, name: str, *, append: bool = False) -> str:
    """`/.well-known/<name>` for the URL's origin, with its path inserted after it (or,
    `append`, the well-known suffix after the path)."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path.rstrip("/")
    joined = f"{path}/.well-known/{name}" if append else f"/.well-known/{name}{path}"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, joined, "", ""))


async def _get_json(http: httpx.AsyncClient, url: str) -> dict[str, Any] | None:
    """A JSON object from `url`, or None when it is not there (any 4xx, not JSON)."""
    import httpx

    try:
        response = await http.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise OAuthFlowError(f"cannot fetch {url}: {exc!r}") from exc
    if response.status_code != 200:
        logger.debug("%s: HTTP %s", url, response.status_code)
        return None
    try:
        document = response.json()
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


async def find_resource_metadata(
    http: httpx.AsyncClient, server_url: str, hinted: str | None
) -> ResourceMetadata | None:
    """The server's PRM, in the spec's order; None when it publishes none (a 2025-03-26
    server).

    Raises:
        OAuthFlowError: the metadata names another resource, or no authorization server.
    """
    candidates = [hinted] if hinted else []
    parts = urllib.parse.urlsplit(server_url)
    if parts.path.strip("/"):
        candidates.append(_well_known(server_url, "oauth-protected-resource"))
    candidates.append(_well_known(f"{parts.scheme}://{parts.netloc}", "oauth-protected-resource"))
    for url in candidates:
        document = await _get_json(http, url)
        if document is None:
            continue
        resource = document.get("resource")
        servers = document.get("authorization_servers")
        if not isinstance(resource, str) or not _covers(resource, server_url):
            raise OAuthFlowError(
                f"the protected resource metadata at {url} is for {resource!r}, not for "
                f"{server_url}: refusing to authorize with it"
            )
        if not (isinstance(servers, list) and servers and isinstance(servers[0], str)):
            raise OAuthFlowError(f"the protected resource metadata at {url} names no server")
        scopes = document.get("scopes_supported")
        return ResourceMetadata(
            resource,
            [s for s in servers if isinstance(s, str)],
            [s for s in scopes if isinstance(s, str)] if isinstance(scopes, list) else None,
            document,
        )
    return None


def _server_metadata_urls(issuer: str) -> list[str]:
    if urllib.parse.urlsplit(issuer).path.strip("/"):
        return [
            _well_known(issuer, "oauth-authorization-server"),
            _well_known(issuer, "openid-configuration"),
            _well_known(issuer, "openid-configuration", append=True),
        ]
    return [
        _well_known(issuer, "oauth-authorization-server"),
        _well_known(issuer, "openid-configuration"),
    ]


def _parse_server_metadata(document: dict[str, Any], where: str) -> ServerMetadata:
    token = document.get("token_endpoint")
    if not isinstance(token, str):
        raise OAuthFlowError(f"the authorization server metadata at {where} has no token_endpoint")
    authorize = document.get("authorization_endpoint")
    register = document.get("registration_endpoint")
    return ServerMetadata(
        str(document["issuer"]),
        authorize if isinstance(authorize, str) else None,
        token,
        register if isinstance(register, str) else None,
        document,
    )


async def find_server_metadata(http: httpx.AsyncClient, issuer: str) -> ServerMetadata:
    """The metadata of the authorization server `issuer`.

    Raises:
        OAuthFlowError: none found, or its `issuer` is not exactly `issuer`.
    """
    for url in _server_metadata_urls(issuer):
        document = await _get_json(http, url)
        if document is None:
            continue
        if document.get("issuer") != issuer:  # exact: no normalization (RFC 8414 §3.3)
            raise OAuthFlowError(
                f"the metadata at {url} is for issuer {document.get('issuer')!r}, not "
                f"{issuer!r}: refusing to use it"
            )
        return _parse_server_metadata(document, url)
    raise OAuthFlowError(f"no authorization server metadata found for {issuer}")


async def legacy_server_metadata(http: httpx.AsyncClient, server_url: str) -> ServerMetadata:
    """A 2025-03-26 server's authorization server (its origin): the metadata at the root,
    else the default endpoints there."""
    parts = urllib.parse.urlsplit(server_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    url = _well_known(origin, "oauth-authorization-server")
    document = await _get_json(http, url)
    if document is not None and isinstance(document.get("issuer"), str):
        return _parse_server_metadata(document, url)
    defaults = {
        "issuer": origin,
        "authorization_endpoint": f"{origin}/authorize",
        "token_endpoint": f"{origin}/token",
        "registration_endpoint": f"{origin}/register",
        "code_challenge_methods_supported": ["S256"],
    }
    return _parse_server_metadata(defaults, origin)
