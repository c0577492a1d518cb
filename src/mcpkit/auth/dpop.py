"""DPoP (RFC 9449): access tokens bound to a key the client holds (SEP-1932 for MCP).

Layer: auth. The client makes one P-256 key per `OAuth`, sends a proof JWT signed with it on
the token request (the server binds the token to the key's thumbprint, `cnf.jkt`), and a
fresh proof with every MCP request, carrying `ath`, the hash of the access token, and
`Authorization: DPoP <token>` instead of `Bearer`. A server may demand a nonce
(`use_dpop_nonce` with a `DPoP-Nonce` header); the next proof to it carries that nonce.
"""

from __future__ import annotations

__all__ = ["DPoPKey", "htu"]

import base64
import hashlib
import secrets
import time
import urllib.parse
from typing import Any, final


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def htu(url: str) -> str:
    """The proof's `htu`: the request URL without query and fragment (RFC 9449 §4.2)."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


@final
class DPoPKey:
    """An ES256 key and the proofs made with it; `nonces` remembers each server's nonce
    (by origin)."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec

        self._key = ec.generate_private_key(ec.SECP256R1())
        numbers = self._key.public_key().public_numbers()
        self.jwk = {
            "kty": "EC",
            "crv": "P-256",
            "x": _b64(numbers.x.to_bytes(32, "big")),
            "y": _b64(numbers.y.to_bytes(32, "big")),
        }
        self.nonces: dict[str, str] = {}

    def note_nonce(self, url: str, nonce: str | None) -> None:
        if nonce:
            parts = urllib.parse.urlsplit(url)
            self.nonces[f"{parts.scheme}://{parts.netloc}"] = nonce

    def proof(self, method: str, url: str, access_token: str | None = None) -> str:
        """A proof for one request (RFC 9449 §4.2), with `ath` when a token goes with it."""
        import jwt

        parts = urllib.parse.urlsplit(url)
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method,
            "htu": htu(url),
            "iat": int(time.time()),
        }
        nonce = self.nonces.get(f"{parts.scheme}://{parts.netloc}")
        if nonce is not None:
            claims["nonce"] = nonce
        if access_token is not None:
            claims["ath"] = _b64(hashlib.sha256(access_token.encode("ascii")).digest())
        headers = {"typ": "dpop+jwt", "jwk": self.jwk}
        return jwt.encode(claims, self._key, algorithm="ES256", headers=headers)
