"""Registering, rotating and revoking signing keys; each is one audit event.

The event payloads are complete on purpose: the offline verifier rebuilds every
signer's key history (which key, whose, valid until when, revoked where in the log)
from these events alone, so a payload names the key, its public bytes and its owner.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from govflow.accounts.selectors import user_organization
from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.core.errors import Conflict, NotFound, field_error
from govflow.core.times import rfc3339, rfc3339_or_none
from govflow.keys.models import SigningKey
from govflow.trust.keys import KeyFormatError, parse_public_key, public_key_id, public_key_to_base64


def key_payload(key: SigningKey) -> dict[str, Any]:
    """What every key event says about the key it concerns."""
    org = user_organization(key.user)
    return {
        "key_id": key.key_id,
        "public_key": key.public_key,
        "name": key.name,
        "user": key.user.get_username(),
        "user_id": key.user_id,
        "organization": org.pk if org else None,
        "created_at": rfc3339_or_none(key.created_at),
        "expires_at": rfc3339_or_none(key.expires_at),
    }


def _new_key(*, user: Any, public_key: str, name: str, expires_at: datetime | None,
             now: datetime) -> SigningKey:
    try:
        parsed = parse_public_key(public_key)
    except KeyFormatError as exc:
        raise field_error("public_key", str(exc)) from exc
    if not name.strip():
        raise field_error("name", "may not be blank")
    if expires_at is not None and expires_at <= now:
        raise field_error("expires_at", f"must be in the future (now is {rfc3339(now)})")
    key_id = public_key_id(parsed)
    if SigningKey.objects.filter(key_id=key_id).exists():
        raise Conflict(f"key {key_id} is already registered; generate a new key",
                       detail={"key_id": key_id})
    try:
        # A savepoint: a concurrent registration of the same key loses on the unique
        # constraint, and the outer transaction can still answer with a 409.
        with transaction.atomic():
            return SigningKey.objects.create(
                user=user, key_id=key_id, public_key=public_key_to_base64(parsed),
                name=name.strip(), created_at=now, expires_at=expires_at,
            )
    except IntegrityError as exc:
        raise Conflict(f"key {key_id} is already registered", detail={"key_id": key_id}) from exc


@transaction.atomic
def key_register(
    *, user: Any, public_key: str, name: str, expires_at: datetime | None = None,
    now: datetime | None = None,
) -> SigningKey:
    """Register ``user``'s Ed25519 public key (PEM or base64 of the raw 32 bytes)."""
    now = now or timezone.now()
    key = _new_key(user=user, public_key=public_key, name=name, expires_at=expires_at, now=now)
    org = user_organization(user)
    audit_append(
        event_type=EventType.KEY_REGISTERED, actor=user, subject=key,
        organization_id=org.pk if org else None, payload=key_payload(key),
    )
    return key


def _lock_key(key_pk: int) -> SigningKey:
    key = SigningKey.objects.select_for_update(of=("self",)).select_related("user") \
        .filter(pk=key_pk).first()
    if key is None:
        raise NotFound(f"signing key {key_pk} does not exist")
    if key.revoked_at is not None:
        raise Conflict(f"key {key.key_id} was revoked at {rfc3339_or_none(key.revoked_at)}")
    return key


@transaction.atomic
def key_rotate(
    *, key_pk: int, public_key: str, name: str, actor: Any, expires_at: datetime | None = None,
    reason: str = "", now: datetime | None = None,
) -> SigningKey:
    """Register a new key for the owner of ``key_pk`` and revoke the old one, together."""
    now = now or timezone.now()
    old = _lock_key(key_pk)
    new = _new_key(user=old.user, public_key=public_key, name=name, expires_at=expires_at,
                   now=now)
    old.revoked_at = now
    old.revoked_reason = reason.strip() or f"rotated to {new.key_id}"
    old.save(update_fields=["revoked_at", "revoked_reason"])
    org = user_organization(old.user)
    audit_append(
        event_type=EventType.KEY_ROTATED, actor=actor, subject=new,
        organization_id=org.pk if org else None,
        payload={**key_payload(new), "revoked_key_id": old.key_id,
                 "revoked_at": rfc3339(now), "revoked_reason": old.revoked_reason},
    )
    return new


@transaction.atomic
def key_revoke(*, key_pk: int, reason: str, actor: Any, now: datetime | None = None) -> SigningKey:
    """Revoke a key: nothing signed with it is accepted from now on."""
    if not reason.strip():
        raise field_error("reason", "may not be blank")
    now = now or timezone.now()
    key = _lock_key(key_pk)
    key.revoked_at = now
    key.revoked_reason = reason.strip()
    key.save(update_fields=["revoked_at", "revoked_reason"])
    org = user_organization(key.user)
    audit_append(
        event_type=EventType.KEY_REVOKED, actor=actor, subject=key,
        organization_id=org.pk if org else None,
        payload={**key_payload(key), "revoked_at": rfc3339(now), "reason": key.revoked_reason},
    )
    return key
