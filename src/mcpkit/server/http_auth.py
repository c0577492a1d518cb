"""The HTTP app's door: protected-resource metadata, and a token on every MCP request.

Layer: server. The rules are in `mcpkit.auth.resource` (this is their HTTP side):
`Guard.metadata()` answers the RFC 9728 well-known URLs, `Guard.admit()` checks a request's
`Authorization` and answers 401/403 itself when it is not good enough, and `Guard.allows()`
checks the scopes a tool asks for once the request's body is known.
"""

from __future__ import annotations

__all__ = ["Guard"]

import json
from collections.abc import Collection

from starlette.types import Scope, Send

from mcpkit.auth.caller import AccessToken
from mcpkit.auth.resource import ResourceServer, challenge
from mcpkit.server.http_responses import send_json

_WELL_KNOWN = "/.well-known/oauth-protected-resource"


def _error(error: str, description: str) -> bytes:
    return json.dumps({"error": error, "error_description": description}).encode()


class Guard:
    """`config` applied to the MCP endpoint at `path` (relative to the mount)."""

    def __init__(self, config: ResourceServer, path: str) -> None:
        self.config = config
        self.path = path

    # ---- where things are ---------------------------------------------------------------

    def _base(self, scope: Scope, headers: dict[str, str]) -> str:
        scheme = str(scope.get("scheme", "http"))
        host = headers.get("host") or "localhost"
        return f"{scheme}://{host}{scope.get('root_path', '')}"

    def resource(self, scope: Scope, headers: dict[str, str]) -> str:
        """This server's resource identifier: configured, or the URL it was reached at."""
        return self.config.resource or self._base(scope, headers) + self.path

    def metadata_url(self, scope: Scope, headers: dict[str, str]) -> str:
        return self._base(scope, headers) + _WELL_KNOWN + self.path

    def is_metadata(self, path: str) -> bool:
        return path.rstrip("/") in (_WELL_KNOWN, _WELL_KNOWN + self.path)

    # ---- answering -----------------------------------------------------------------------

    async def metadata(self, scope: Scope, headers: dict[str, str], send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            await send_json(send, 405, _error("invalid_request", "use GET"))
            return
        body = json.dumps(self.config.metadata(self.resource(scope, headers))).encode()
        await send_json(send, 200, body, [(b"cache-control", b"max-age=3600")])

    async def admit(self, scope: Scope, headers: dict[str, str], send: Send) -> AccessToken | None:
        """The caller, if its token is good and has the scopes every request needs; None
        after answering 401 or 403."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        where = self.metadata_url(scope, headers)
        required = self.config.required_scopes
        if scheme.lower() != "bearer" or not token.strip():
            why = "this server needs an access token (Authorization: Bearer)"
            header = challenge(where, scopes=required)
            await self._refuse(send, 401, header, _error("invalid_token", why))
            return None
        access = await self.config.verifier.verify(token.strip(), self.resource(scope, headers))
        if access is None:
            why = "the access token is invalid, expired, or not for this server"
            header = challenge(where, error="invalid_token", scopes=required, description=why)
            await self._refuse(send, 401, header, _error("invalid_token", why))
            return None
        if not await self.allows(access, required, scope, headers, send):
            return None
        return access

    async def allows(
        self,
        access: AccessToken,
        needed: Collection[str],
        scope: Scope,
        headers: dict[str, str],
        send: Send,
    ) -> bool:
        """Whether `access` has every scope in `needed`; False after answering 403 naming
        what to ask for (what it has, plus what is missing: step-up)."""
        missing = [s for s in needed if s not in access.scopes]
        if not missing:
            return True
        wanted = sorted(access.scopes | set(needed))
        why = f"this request needs the scope(s) {' '.join(missing)}"
        where = self.metadata_url(scope, headers)
        header = challenge(where, error="insufficient_scope", scopes=wanted, description=why)
        await self._refuse(send, 403, header, _error("insufficient_scope", why))
        return False

    async def _refuse(self, send: Send, status: int, header: str, body: bytes) -> None:
        await send_json(send, status, body, [(b"www-authenticate", header.encode("latin-1"))])
