"""Sealed `requestState`: integrity-protected, bound, expiring server state for round trips.

Layer: protocol (sans-I/O). No clocks, no I/O, no logging: the caller passes `now` (seconds
since the epoch) and gets back strings and dicts.

In MCP 2026-07-28 a server that needs client input mid-request (elicitation, sampling, roots)
answers with an `InputRequiredResult` carrying an opaque `requestState` string, and the client
retries the original request echoing that string. The string comes back from the client, so it
is attacker-controlled. A `Sealer` turns server state into such a string and back, protecting
against:

- forgery and tampering: every token is authenticated (HMAC-SHA256 or AES-256-GCM);
- replay into another request: the state is bound to the method and a name (tool name,
  prompt name or resource URI), so state minted for `tools/call` of tool `a` is refused for
  tool `b` or for `prompts/get`;
- replay by another user: the state is bound to the authenticated principal;
- stale reuse: the state carries an expiry (`ttl`, ten minutes by default);
- disclosure (AEAD mode only): the payload is encrypted, not merely signed;
- resource abuse: oversized tokens are refused before any decoding or crypto.

How this works::

    token  = "v1" "." mode "." key_id "." base64url(body)        (unpadded, canonical)
    header = "v1" "." mode "." key_id
    inner  = JSON {"p": payload, "iat": now, "exp": now + ttl,
                   "req": SHA-256(method, name), "sub": SHA-256(principal)}
    hmac:  body = inner || HMAC-SHA256(k_hmac, header "." inner)      signed, readable
    aead:  body = nonce(12) || AES-256-GCM(k_aead, nonce, inner, aad=header)  confidential

Both `k_hmac` and `k_aead` are derived from each configured secret with HKDF-SHA256 and a
per-mode label, so one secret never keys two algorithms. The key id travels in clear so that
`open` finds the right key during rotation: `keys[0]` seals, every listed key opens.

Every failure of `open` raises `InvalidRequestState` (JSON-RPC -32602), whatever the input.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec

from mcpkit.protocol.errors import InvalidParams

__all__ = ["InvalidRequestState", "SealKey", "SealMode", "Sealer"]

SealMode = Literal["hmac", "aead"]
Reason = Literal[
    "malformed",
    "unknown_key",
    "bad_seal",
    "expired",
    "wrong_request",
    "wrong_principal",
    "too_large",
]

_VERSION = "v1"
_MODES: tuple[SealMode, ...] = ("hmac", "aead")
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_MIN_SECRET = 32
_TAG_LEN = 32  # HMAC-SHA256
_NONCE_LEN = 12  # 96-bit GCM nonce
_GCM_TAG_LEN = 16

_encoder = msgspec.json.Encoder(order="deterministic")


class InvalidRequestState(InvalidParams):
    """A `requestState` the client sent back could not be accepted (JSON-RPC -32602).

    `reason` (also in `data["reason"]`) names the check that failed: `malformed`,
    `unknown_key`, `bad_seal`, `expired`, `wrong_request`, `wrong_principal` or `too_large`.
    Messages never contain key material or echo the token.
    """

    def __init__(self, message: str, reason: Reason) -> None:
        super().__init__(f"invalid requestState: {message}", {"reason": reason})
        self.reason: Reason = reason


@dataclass(frozen=True)
class SealKey:
    """One sealing secret and the short, URL-safe id that names it inside tokens.

    Attributes:
        key_id: 1-64 characters of `[A-Za-z0-9_-]`; written into every token in clear.
        secret: At least 32 bytes of high-entropy key material. Never shown in `repr`.

    Raises:
        ValueError: If the key id is not URL-safe or the secret is shorter than 32 bytes.
    """

    key_id: str
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.key_id, str) or not _KEY_ID.fullmatch(self.key_id):
            raise ValueError("key_id must be 1-64 characters of [A-Za-z0-9_-]")
        if not isinstance(self.secret, bytes) or len(self.secret) < _MIN_SECRET:
            raise ValueError(f"secret must be at least {_MIN_SECRET} bytes")

    @classmethod
    def generate(cls) -> SealKey:
        """A fresh key: 32 random bytes and a random 8-character id."""
        return cls(key_id=secrets.token_urlsafe(6), secret=secrets.token_bytes(32))


class _Envelope(msgspec.Struct, forbid_unknown_fields=True):
    """The protected inner document of a token."""

    p: dict[str, Any]
    iat: float
    exp: float
    req: str
    sub: str


def _derive(secret: bytes, mode: SealMode) -> bytes:
    from cryptography.hazmat.primitives import hashes  # lazily: see `Sealer._keys`
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    label = f"mcpkit/requestState/{_VERSION}/{mode}".encode("ascii")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(secret)


def _digest(label: str, values: list[str | None]) -> str:
    """SHA-256 over a label and a JSON list: unambiguous, and None differs from ""."""
    data = label.encode("ascii") + b"\x00" + _encoder.encode(values)
    return hashlib.sha256(data).hexdigest()


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """Strict, canonical base64url: one byte string has exactly one accepted spelling."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise InvalidRequestState("body is not base64url", "malformed")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64encode(raw) != text:  # unused trailing bits set: a second spelling of the body
        raise InvalidRequestState("body is not canonical base64url", "malformed")
    return raw


class Sealer:
    """Seals server state into a `requestState` token and opens it again, verified.

    Args:
        keys: Sealing keys; `keys[0]` seals, all of them open (for rotation). Key ids must be
            unique.
        mode: `"aead"` (AES-256-GCM, confidential) or `"hmac"` (HMAC-SHA256, signed but
            readable). Tokens of the other mode are refused.
        ttl: Lifetime of a sealed state in seconds.
        max_size: Largest token accepted (and produced), in characters.

    Raises:
        ValueError: On no keys, duplicate key ids, an unknown mode, or a non-positive
            `ttl` or `max_size`.
    """

    def __init__(
        self,
        keys: Sequence[SealKey],
        *,
        mode: SealMode = "aead",
        ttl: float = 600.0,
        max_size: int = 64 * 1024,
    ) -> None:
        if not keys:
            raise ValueError("at least one SealKey is required")
        if len({k.key_id for k in keys}) != len(keys):
            raise ValueError("key ids must be unique")
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}")
        if not (math.isfinite(ttl) and ttl > 0):
            raise ValueError("ttl must be a positive finite number of seconds")
        if max_size <= 0:
            raise ValueError("max_size must be positive")
        self.mode: SealMode = mode
        self.ttl = ttl
        self.max_size = max_size
        self._active = keys[0].key_id
        self._secrets = {k.key_id: k.secret for k in keys}
        self._derived: dict[str, bytes] | None = None

    @property
    def _keys(self) -> dict[str, bytes]:
        """The derived keys, made on first use: most servers never seal anything, and
        the KDF's library is a noticeable share of a server's start-up."""
        if self._derived is None:
            self._derived = {
                kid: _derive(secret, self.mode) for kid, secret in self._secrets.items()
            }
        return self._derived

    @classmethod
    def generate(
        cls, *, mode: SealMode = "aead", ttl: float = 600.0, max_size: int = 64 * 1024
    ) -> Sealer:
        """A sealer with one fresh random key, for a process with no configured key.

        Tokens it seals can be opened only by this same instance (not after a restart, not by
        another replica).

        Raises:
            ValueError: On an invalid `mode`, `ttl` or `max_size`.
        """
        return cls([SealKey.generate()], mode=mode, ttl=ttl, max_size=max_size)

    def seal(
        self,
        payload: Mapping[str, Any],
        *,
        method: str,
        name: str | None,
        principal: str | None,
        now: float,
    ) -> str:
        """Seal `payload` into a token bound to this request and principal, valid for `ttl`.

        Args:
            payload: JSON-serializable state to carry (string keys).
            method: The originating request's method, e.g. `"tools/call"`.
            name: Its salient name (tool name, prompt name, resource URI), or None.
            principal: The authenticated principal, or None when unauthenticated.
            now: The current time, in seconds since the epoch.

        Returns:
            A URL-safe ASCII token to send as `requestState`.

        Raises:
            TypeError: If `payload` is not JSON-serializable.
            ValueError: If the resulting token would exceed `max_size`.
        """
        envelope = _Envelope(
            p=dict(payload),
            iat=now,
            exp=now + self.ttl,
            req=_digest("req", [method, name]),
            sub=_digest("sub", [principal]),
        )
        token = self._wrap(_encoder.encode(envelope))
        if len(token) > self.max_size:
            raise ValueError(f"sealed state of {len(token)} chars exceeds max_size")
        return token

    def open(
        self,
        token: str,
        *,
        method: str,
        name: str | None,
        principal: str | None,
        now: float,
    ) -> dict[str, Any]:
        """Verify a token the client echoed back and return the payload sealed into it.

        Args:
            token: The `requestState` string exactly as received.
            method: The method of the retried request.
            name: Its salient name, as passed to `seal`.
            principal: The principal authenticated on the retried request.
            now: The current time, in seconds since the epoch.

        Returns:
            The payload, as a fresh dict.

        Raises:
            InvalidRequestState: If the token is too large, malformed, sealed with an unknown
                key or another mode, fails verification or decryption, has expired, or is
                bound to another request or principal. Nothing else is raised for any input.
        """
        if not isinstance(token, str):
            raise InvalidRequestState("not a string", "malformed")
        if len(token) > self.max_size:
            raise InvalidRequestState(f"larger than {self.max_size} characters", "too_large")
        key_id, body = self._parse(token)
        envelope = self._unseal(key_id, body)
        if now > envelope.exp:
            raise InvalidRequestState("expired", "expired")
        if not hmac.compare_digest(envelope.req, _digest("req", [method, name])):
            raise InvalidRequestState("bound to a different request", "wrong_request")
        if not hmac.compare_digest(envelope.sub, _digest("sub", [principal])):
            raise InvalidRequestState("bound to a different principal", "wrong_principal")
        return envelope.p

    def _wrap(self, inner: bytes) -> str:
        """Sign (or encrypt) the inner document with the active key; returns the token."""
        header = f"{_VERSION}.{self.mode}.{self._active}"
        key = self._keys[self._active]
        if self.mode == "hmac":
            body = inner + _mac(key, header, inner)
        else:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            nonce = secrets.token_bytes(_NONCE_LEN)
            body = nonce + AESGCM(key).encrypt(nonce, inner, header.encode("ascii"))
        return f"{header}.{_b64encode(body)}"

    def _parse(self, token: str) -> tuple[str, bytes]:
        """Split and check the clear header; returns the key id and the decoded body."""
        parts = token.split(".")
        if len(parts) != 4:
            raise InvalidRequestState("not a sealed token", "malformed")
        version, mode, key_id, body = parts
        if version != _VERSION:
            raise InvalidRequestState("unsupported token version", "malformed")
        if mode != self.mode:
            raise InvalidRequestState(f"not sealed in {self.mode} mode", "malformed")
        if not _KEY_ID.fullmatch(key_id):
            raise InvalidRequestState("malformed key id", "malformed")
        if key_id not in self._keys:
            raise InvalidRequestState("sealed with an unknown key id", "unknown_key")
        return key_id, _b64decode(body)

    def _unseal(self, key_id: str, body: bytes) -> _Envelope:
        """Authenticate (and in AEAD mode decrypt) the body, then decode the envelope."""
        key = self._keys[key_id]
        header = f"{_VERSION}.{self.mode}.{key_id}"
        if self.mode == "hmac":
            if len(body) <= _TAG_LEN:
                raise InvalidRequestState("body too short", "malformed")
            inner, tag = body[:-_TAG_LEN], body[-_TAG_LEN:]
            if not hmac.compare_digest(tag, _mac(key, header, inner)):
                raise InvalidRequestState("bad signature", "bad_seal")
        else:
            if len(body) <= _NONCE_LEN + _GCM_TAG_LEN:
                raise InvalidRequestState("body too short", "malformed")
            from cryptography.exceptions import InvalidTag
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            nonce, sealed = body[:_NONCE_LEN], body[_NONCE_LEN:]
            try:
                inner = AESGCM(key).decrypt(nonce, sealed, header.encode("ascii"))
            except InvalidTag:
                raise InvalidRequestState("decryption failed", "bad_seal") from None
        try:
            return msgspec.json.decode(inner, type=_Envelope)
        except msgspec.DecodeError:
            raise InvalidRequestState("authenticated but unreadable", "malformed") from None


def _mac(key: bytes, header: str, inner: bytes) -> bytes:
    """HMAC-SHA256 over the header, a separator and the inner document."""
    return hmac.new(key, header.encode("ascii") + b"." + inner, hashlib.sha256).digest()
