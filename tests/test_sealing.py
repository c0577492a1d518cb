"""Tests for mcpkit.protocol.sealing: sealed, bound, expiring requestState tokens."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpkit.protocol.errors import INVALID_PARAMS, InvalidParams, error_for
from mcpkit.protocol.sealing import InvalidRequestState, Sealer, SealKey, SealMode

MODES: list[SealMode] = ["hmac", "aead"]
NOW = 1_000_000.0
MARKER = "ZEBRA-MARKER-7f3a"
KEY_A = SealKey("key-a", b"A" * 32)
KEY_B = SealKey("key-b", b"B" * 48)
BIND: dict[str, Any] = {"method": "tools/call", "name": "deploy", "principal": "alice"}


def _sealer(mode: SealMode, *keys: SealKey, **kw: Any) -> Sealer:
    return Sealer(list(keys) or [KEY_A], mode=mode, **kw)


def _seal(sealer: Sealer, payload: dict[str, Any] | None = None, **bind: Any) -> str:
    args = {**BIND, "now": NOW, **bind}
    return sealer.seal(payload if payload is not None else {"step": 1}, **args)


def _open(sealer: Sealer, token: str, **bind: Any) -> dict[str, Any]:
    return sealer.open(token, **{**BIND, "now": NOW, **bind})


def _reason(sealer: Sealer, token: str, **bind: Any) -> str:
    with pytest.raises(InvalidRequestState) as info:
        _open(sealer, token, **bind)
    return info.value.reason


def _body(token: str) -> bytes:
    body = token.rsplit(".", 1)[1]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


# --- round trip, rotation, keys -------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_round_trip(mode: SealMode) -> None:
    sealer = _sealer(mode)
    payload = {"step": 2, "answers": ["x", None, True], "nested": {"k": [1, 2.5]}}
    token = _seal(sealer, payload)
    assert token.isascii()
    assert token.startswith(f"v1.{mode}.key-a.")
    assert _open(sealer, token) == payload


@pytest.mark.parametrize("mode", MODES)
def test_tokens_use_only_url_safe_characters(mode: SealMode) -> None:
    token = _seal(_sealer(mode), {"s": "ü/+=?&" * 20})
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
    assert set(token) <= allowed


@pytest.mark.parametrize("mode", MODES)
def test_key_rotation(mode: SealMode) -> None:
    old = _sealer(mode, KEY_A)
    token = _seal(old)
    rotated = _sealer(mode, KEY_B, KEY_A)
    assert _open(rotated, token) == {"step": 1}
    fresh = _seal(rotated)
    assert fresh.split(".")[2] == "key-b"
    assert _reason(old, fresh) == "unknown_key"


@pytest.mark.parametrize("mode", MODES)
def test_unknown_key_id(mode: SealMode) -> None:
    token = _seal(_sealer(mode, KEY_A))
    assert _reason(_sealer(mode, KEY_B), token) == "unknown_key"


@pytest.mark.parametrize("mode", MODES)
def test_same_key_id_other_secret_fails_verification(mode: SealMode) -> None:
    token = _seal(_sealer(mode, KEY_A))
    impostor = SealKey("key-a", b"Z" * 32)
    assert _reason(_sealer(mode, impostor), token) == "bad_seal"


def test_mode_mismatch_is_refused() -> None:
    token = _seal(_sealer("hmac"))
    assert _reason(_sealer("aead"), token) == "malformed"
    assert _reason(_sealer("hmac"), token.replace("v1.", "v2.", 1)) == "malformed"


def test_generate() -> None:
    one, two = Sealer.generate(), Sealer.generate(mode="hmac", ttl=5)
    token = _seal(one)
    assert _open(one, token) == {"step": 1}
    assert _reason(Sealer.generate(), token) == "unknown_key"
    assert two.mode == "hmac"
    assert two.ttl == 5


@pytest.mark.parametrize(
    ("key_id", "secret"),
    [("", b"x" * 32), ("has.dot", b"x" * 32), ("é", b"x" * 32), ("k" * 65, b"x" * 32),
     ("ok", b"x" * 31)],
)  # fmt: skip
def test_seal_key_validation(key_id: str, secret: bytes) -> None:
    with pytest.raises(ValueError, match=r"key_id|secret"):
        SealKey(key_id, secret)


def test_seal_key_repr_hides_secret() -> None:
    assert "AAAA" not in repr(KEY_A)


@pytest.mark.parametrize(
    ("keys", "kw"),
    [([], {}), ([KEY_A, SealKey("key-a", b"C" * 32)], {}), ([KEY_A], {"mode": "rot13"}),
     ([KEY_A], {"ttl": 0}), ([KEY_A], {"ttl": float("inf")}), ([KEY_A], {"max_size": 0})],
)  # fmt: skip
def test_sealer_validation(keys: list[SealKey], kw: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"."):
        Sealer(keys, **kw)


# --- tampering -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_every_bit_flip_is_rejected(mode: SealMode) -> None:
    sealer = _sealer(mode)
    token = _seal(sealer)
    for i, ch in enumerate(token):
        for bit in range(7):
            tampered = token[:i] + chr(ord(ch) ^ (1 << bit)) + token[i + 1 :]
            with pytest.raises(InvalidRequestState):
                _open(sealer, tampered)


@pytest.mark.parametrize("mode", MODES)
def test_every_truncation_and_extension_is_rejected(mode: SealMode) -> None:
    sealer = _sealer(mode)
    token = _seal(sealer)
    for i in range(len(token)):
        with pytest.raises(InvalidRequestState):
            _open(sealer, token[:i])
    for extra in ("A", "-", ".", "=", "==", "\n", " "):
        with pytest.raises(InvalidRequestState):
            _open(sealer, token + extra)


@pytest.mark.parametrize("mode", MODES)
def test_tamper_reason_is_bad_seal(mode: SealMode) -> None:
    sealer = _sealer(mode)
    token = _seal(sealer)
    header, body = token.rsplit(".", 1)
    swapped = "A" if body[5] != "A" else "B"
    assert _reason(sealer, f"{header}.{body[:5]}{swapped}{body[6:]}") == "bad_seal"


def test_hmac_payload_readable_but_tamper_evident() -> None:
    sealer = _sealer("hmac")
    token = _seal(sealer, {"note": MARKER, "admin": False})
    raw = _body(token)
    inner, tag = raw[:-32], raw[-32:]
    document = json.loads(inner)
    assert document["p"] == {"note": MARKER, "admin": False}
    document["p"]["admin"] = True
    forged = json.dumps(document, separators=(",", ":")).encode() + tag
    header = token.rsplit(".", 1)[0]
    forged_body = base64.urlsafe_b64encode(forged).rstrip(b"=").decode()
    assert _reason(sealer, f"{header}.{forged_body}") == "bad_seal"


def test_aead_hides_payload() -> None:
    sealer = _sealer("aead")
    token = _seal(sealer, {"note": MARKER})
    assert MARKER not in token
    assert MARKER.encode() not in _body(token)
    assert _open(sealer, token) == {"note": MARKER}


def test_aead_nonces_differ() -> None:
    sealer = _sealer("aead")
    assert _seal(sealer) != _seal(sealer)


def test_hmac_principal_not_in_clear() -> None:
    token = _seal(_sealer("hmac"), principal="alice@example.com")
    assert b"alice@example.com" not in _body(token)


# --- expiry and binding ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_expiry_boundary(mode: SealMode) -> None:
    sealer = _sealer(mode, ttl=60.0)
    token = _seal(sealer)
    assert _open(sealer, token, now=NOW + 60.0) == {"step": 1}
    assert _reason(sealer, token, now=NOW + 60.001) == "expired"
    assert _reason(sealer, token, now=NOW + 10_000) == "expired"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("sealed", "opened", "reason"),
    [
        ({"method": "tools/call"}, {"method": "prompts/get"}, "wrong_request"),
        ({"name": "deploy"}, {"name": "destroy"}, "wrong_request"),
        ({"name": None}, {"name": ""}, "wrong_request"),
        ({"name": ""}, {"name": None}, "wrong_request"),
        ({"principal": "alice"}, {"principal": "mallory"}, "wrong_principal"),
        ({"principal": None}, {"principal": ""}, "wrong_principal"),
        ({"principal": ""}, {"principal": None}, "wrong_principal"),
        ({"principal": "alice"}, {"principal": None}, "wrong_principal"),
    ],
)
def test_binding_mismatch(
    mode: SealMode, sealed: dict[str, Any], opened: dict[str, Any], reason: str
) -> None:
    sealer = _sealer(mode)
    token = _seal(sealer, **sealed)
    assert _open(sealer, token, **sealed) == {"step": 1}
    assert _reason(sealer, token, **opened) == reason


def test_binding_is_unambiguous() -> None:
    sealer = _sealer("aead")
    token = _seal(sealer, method="a", name="b/c")
    assert _reason(sealer, token, method="a/b", name="c") == "wrong_request"


# --- size and errors -------------------------------------------------------------------------


def test_oversize_rejected_before_parsing() -> None:
    sealer = _sealer("aead", max_size=200)
    assert _reason(sealer, "x" * 201) == "too_large"
    assert _reason(sealer, "x" * 200) == "malformed"
    with pytest.raises(ValueError, match="max_size"):
        _seal(sealer, {"blob": "y" * 500})


@pytest.mark.parametrize("mode", MODES)
def test_oversize_valid_token_rejected(mode: SealMode) -> None:
    token = _seal(_sealer(mode), {"blob": "y" * 500})
    assert _reason(_sealer(mode, max_size=len(token) - 1), token) == "too_large"
    assert _open(_sealer(mode, max_size=len(token)), token)["blob"] == "y" * 500


def test_error_is_invalid_params_without_secrets() -> None:
    sealer = _sealer("hmac")
    with pytest.raises(InvalidParams) as info:
        _open(sealer, _seal(sealer), principal="mallory")
    exc = info.value
    assert isinstance(exc, InvalidRequestState)
    code, message, data = error_for(exc)
    assert code == INVALID_PARAMS == -32602
    assert data == {"reason": "wrong_principal"}
    assert "principal" in message
    assert "AAAA" not in message
    assert "alice" not in message


@pytest.mark.parametrize(
    "garbage",
    ["", ".", "...", "....", "v1.aead.key-a.", "v1.aead.key-a.A", "v1.aead.key-a.AAAA",
     "v1.aead.key-a.!!!!", "v1.aead.key-a.AA==", "v1.aead..AAAA", "v1.aead.ké.AAAA",
     "v1.aead.key-a.AAAA\n", "\x00", "\ud800", "v1.aead.key-a." + "A" * 36],
)  # fmt: skip
def test_garbage_is_malformed(garbage: str) -> None:
    assert _reason(_sealer("aead"), garbage) == "malformed"


def test_non_string_token_is_rejected() -> None:
    with pytest.raises(InvalidRequestState):
        _sealer("aead").open(b"v1.aead.key-a.AAAA", **BIND, now=NOW)  # type: ignore[arg-type]


# --- properties ------------------------------------------------------------------------------

SEALERS = [_sealer("aead"), _sealer("hmac")]
B64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300)
@given(token=st.text())
def test_arbitrary_text_only_raises_invalid_request_state(token: str) -> None:
    for sealer in SEALERS:
        with pytest.raises(InvalidRequestState):
            _open(sealer, token)


@settings(max_examples=300)
@given(
    mode=st.sampled_from(MODES),
    key_id=st.sampled_from(["key-a", "key-b", "", "k.y"]),
    body=st.text(alphabet=B64_CHARS + "=.!é", max_size=200),
)
def test_plausible_tokens_only_raise_invalid_request_state(
    mode: str, key_id: str, body: str
) -> None:
    for sealer in SEALERS:
        with pytest.raises(InvalidRequestState):
            _open(sealer, f"v1.{mode}.{key_id}.{body}")


@given(
    payload=st.dictionaries(st.text(), JSON_VALUES, max_size=6),
    mode=st.sampled_from(MODES),
    name=st.none() | st.text(max_size=20),
    principal=st.none() | st.text(max_size=20),
)
def test_round_trip_property(
    payload: dict[str, Any], mode: SealMode, name: str | None, principal: str | None
) -> None:
    sealer = SEALERS[0] if mode == "aead" else SEALERS[1]
    token = _seal(sealer, payload, name=name, principal=principal)
    assert _open(sealer, token, name=name, principal=principal) == payload
