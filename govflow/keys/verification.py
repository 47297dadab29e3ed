"""Checking that a DSSE envelope was signed by the person submitting it.

A signature counts only under one of the submitter's own registered keys that is
unrevoked and unexpired by the *server's* clock: a signer's claimed signing time is
theirs to state and is never trusted. Each refusal names the rule that failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from govflow.core.errors import DomainError, PermissionDenied, ValidationFailed
from govflow.keys.models import SigningKey
from govflow.trust import dsse
from govflow.trust.keys import parse_public_key


@dataclass(frozen=True)
class VerifiedEnvelope:
    payload_type: str
    payload: bytes
    key: SigningKey


def _refuse(cls: type[DomainError], rule: str, message: str) -> DomainError:
    return cls(message, detail={"rule": rule})


def _check_shape(envelope: Any, payload_type: str | None) -> list[str]:
    """Structural checks first, so a malformed envelope is a 400, not a failed signature.
    Returns the (unauthenticated) keyid hints."""
    if not isinstance(envelope, Mapping):
        raise _refuse(ValidationFailed, "malformed_envelope", "the envelope must be a JSON object")
    for field, kind in (("payload", str), ("payloadType", str), ("signatures", list)):
        if not isinstance(envelope.get(field), kind):
            raise _refuse(ValidationFailed, "malformed_envelope",
                          f"the envelope needs {field!r} ({kind.__name__})")
    if payload_type is not None and envelope["payloadType"] != payload_type:
        raise _refuse(ValidationFailed, "wrong_payload_type",
                      f"payloadType is {envelope['payloadType']!r}, expected {payload_type!r}")
    signatures = envelope["signatures"]
    if not signatures or not all(isinstance(s, Mapping) and isinstance(s.get("sig"), str)
                                 for s in signatures):
        raise _refuse(ValidationFailed, "malformed_envelope",
                      "the envelope needs at least one signature {keyid, sig}")
    return [s.get("keyid") for s in signatures if isinstance(s.get("keyid"), str)]


def verify_user_envelope(
    envelope: Any, user: Any, *, now: datetime, payload_type: str | None = None
) -> VerifiedEnvelope:
    hints = _check_shape(envelope, payload_type)
    own = {k.key_id: k for k in SigningKey.objects.filter(user=user)}
    if not own:
        raise _refuse(PermissionDenied, "no_key",
                      "you have no registered signing key: register one (POST /api/keys)")
    usable = {key_id: k for key_id, k in own.items() if k.is_usable_at(now)}
    try:
        verified = _verify(envelope, usable)
    except dsse.EnvelopeError as exc:
        raise _failure(envelope, user, hints, own, usable, exc) from exc
    return VerifiedEnvelope(verified.payload_type, verified.payload, own[verified.keyid])


def _verify(envelope: Any, keys: dict[str, SigningKey]) -> dsse.VerifiedPayload:
    if not keys:
        raise dsse.EnvelopeError("no usable key")
    return dsse.verify_envelope(
        envelope, {key_id: parse_public_key(k.public_key) for key_id, k in keys.items()}
    )


def _failure(envelope: Any, user: Any, hints: Any, own: Any, usable: Any,
             exc: dsse.EnvelopeError) -> DomainError:
    """Why no usable key of the submitter verifies: revoked or expired key, altered
    statement, someone else's key, or a key nobody registered."""
    for key_id, key in own.items():
        if key_id in usable:
            continue
        try:
            _verify(envelope, {key_id: key})
        except dsse.EnvelopeError:
            continue
        if key.revoked_at is not None:
            return _refuse(PermissionDenied, "key_revoked",
                           f"signed with key {key.key_id}, which was revoked at "
                           f"{key.revoked_at.isoformat()}: sign again with a current key")
        return _refuse(PermissionDenied, "key_expired",
                       f"signed with key {key.key_id}, which expired at "
                       f"{key.expires_at.isoformat()}: register a new key")
    if any(h in usable for h in hints):
        return _refuse(ValidationFailed, "bad_signature",
                       f"the signature does not verify under your key: {exc} (was the statement "
                       "changed after signing?)")
    foreign = SigningKey.objects.filter(key_id__in=[h for h in hints if h]).exclude(user=user)
    for key in foreign:
        try:
            _verify(envelope, {key.key_id: key})
        except dsse.EnvelopeError:
            continue
        return _refuse(PermissionDenied, "foreign_key",
                       f"signed with key {key.key_id}, which is registered to another person: "
                       "sign with your own key")
    return _refuse(PermissionDenied, "unregistered_key",
                   f"the envelope is not signed by any key registered to you ({exc})")
