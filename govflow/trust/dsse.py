"""DSSE v1 envelopes (secure-systems-lab/dsse protocol.md and envelope.md) with Ed25519.

Every signed statement in govflow (a sign-off, a finding, a stage decision) travels as a DSSE
envelope: the signature covers the payload *and* its type through PAE, so a signed finding can
never be replayed as, say, a signed sign-off.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from govflow.trust.keys import public_key_id


class EnvelopeError(ValueError):
    """A DSSE envelope is malformed or carries no valid signature by an accepted key."""


class VerifiedPayload(NamedTuple):
    payload_type: str
    payload: bytes
    keyid: str  # the id (in the caller's key map) of the key that verified, not the hint


def pae(payload_type: str, payload: bytes) -> bytes:
    """Pre-Authentication Encoding (DSSE protocol.md): lengths are decimal byte counts."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(t), t, len(payload), payload)


# envelope.md: "Either standard or URL-safe encoding is allowed"; we also tolerate missing
# padding, but never a mix of the two alphabets.
_B64_STD = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_B64_URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")


def _b64decode(value: Any, field: str) -> bytes:
    if not isinstance(value, str):
        raise EnvelopeError(f"{field} must be a base64 string, got {type(value).__name__}")
    if _B64_STD.fullmatch(value):
        text = value
    elif _B64_URL.fullmatch(value):
        text = value.translate(str.maketrans("-_", "+/"))
    else:
        raise EnvelopeError(f"{field} is not valid base64")
    text = text.rstrip("=")
    if len(text) % 4 == 1:
        raise EnvelopeError(f"{field} is not valid base64 (bad length)")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EnvelopeError(f"{field} is not valid base64: {exc}") from exc


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def sign_envelope(
    payload: bytes, payload_type: str, private_key: Ed25519PrivateKey, keyid: str | None = None
) -> dict[str, Any]:
    """A JSON-ready envelope with one signature; ``keyid`` defaults to the public key's id."""
    if not isinstance(payload, bytes):
        raise TypeError("payload must be bytes")
    if keyid is None:
        keyid = public_key_id(private_key.public_key())
    sig = private_key.sign(pae(payload_type, payload))
    return {
        "payload": _b64encode(payload),
        "payloadType": payload_type,
        "signatures": [{"keyid": keyid, "sig": _b64encode(sig)}],
    }


def add_signature(
    envelope: Mapping[str, Any], private_key: Ed25519PrivateKey, keyid: str | None = None
) -> dict[str, Any]:
    """A copy of ``envelope`` with one more signature (co-signing, e.g. auditor then regulator)."""
    payload_type, payload, _ = _parse(envelope)
    extra = sign_envelope(payload, payload_type, private_key, keyid)["signatures"]
    return {**envelope, "signatures": [*envelope["signatures"], *extra]}


def parse_envelope(envelope: Any) -> tuple[str, bytes, list[tuple[str, bytes]]]:
    """(payloadType, payload bytes, [(keyid hint, signature bytes)]); checks shape only."""
    return _parse(envelope)


def _parse(envelope: Any) -> tuple[str, bytes, list[tuple[str, bytes]]]:
    # envelope.md parsing rules: payload, payloadType, signatures and sig are required (even if
    # empty); keyid is optional and unset means empty; unknown fields are ignored.
    if not isinstance(envelope, Mapping):
        raise EnvelopeError("envelope must be a JSON object")
    for field in ("payload", "payloadType", "signatures"):
        if field not in envelope:
            raise EnvelopeError(f"envelope has no {field!r} field")
    payload_type = envelope["payloadType"]
    if not isinstance(payload_type, str):
        raise EnvelopeError("payloadType must be a string")
    payload = _b64decode(envelope["payload"], "payload")
    raw_sigs = envelope["signatures"]
    if not isinstance(raw_sigs, list):
        raise EnvelopeError("signatures must be a list")
    signatures = []
    for n, entry in enumerate(raw_sigs):
        if not isinstance(entry, Mapping) or "sig" not in entry:
            raise EnvelopeError(f"signature {n} has no 'sig' field")
        keyid = entry.get("keyid") or ""
        if not isinstance(keyid, str):
            raise EnvelopeError(f"signature {n} has a non-string keyid")
        signatures.append((keyid, _b64decode(entry["sig"], f"signature {n} sig")))
    return payload_type, payload, signatures


def verify_envelope(
    envelope: Mapping[str, Any],
    keys: Mapping[str, Ed25519PublicKey],
    *,
    payload_type: str | None = None,
) -> VerifiedPayload:
    """Verify that at least one signature is by a key in ``keys`` and return the payload.

    The envelope's keyid is an unauthenticated hint (protocol.md): it only selects which key to
    try first, and a signature without a known hint is tried against every key. If
    ``payload_type`` is given, any other type is refused before any signature is checked.
    """
    if not keys:
        raise EnvelopeError("no keys to verify with")
    got_type, payload, signatures = _parse(envelope)
    if payload_type is not None and got_type != payload_type:
        raise EnvelopeError(f"payloadType is {got_type!r}, expected {payload_type!r}")
    if not signatures:
        raise EnvelopeError("envelope has no signatures")
    message = pae(got_type, payload)
    failed_hints = []
    for hint, sig in signatures:
        candidates = [hint] if hint in keys else list(keys)
        for keyid in candidates:
            try:
                keys[keyid].verify(sig, message)
            except InvalidSignature:
                continue
            return VerifiedPayload(got_type, payload, keyid)
        if hint in keys:
            failed_hints.append(hint)
    if failed_hints:
        raise EnvelopeError(f"signature by key {failed_hints[0]!r} does not verify")
    raise EnvelopeError("no valid signature by a known key")
