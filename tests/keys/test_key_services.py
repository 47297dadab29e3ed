"""Registering, rotating and revoking signing keys: one audit event each, complete enough
for the offline verifier to rebuild every key's history from the log alone."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from django.utils import timezone

from govflow.audit.models import AuditEvent
from govflow.core.errors import Conflict, ValidationFailed
from govflow.keys.models import SigningKey
from govflow.keys.services import key_register, key_revoke, key_rotate
from govflow.trust.keys import public_key_id, public_key_to_base64, public_key_to_pem
from tests import factories

pytestmark = pytest.mark.django_db


def events_since(mark: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(pk__gt=mark).order_by("pk"))


def last_event_id() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.fixture
def bob(lab):
    return factories.person(lab, "lab_signer", username="bob")


def new_public():
    return ed25519.Ed25519PrivateKey.generate().public_key()


def test_registering_a_key_writes_one_complete_event(lab, bob):
    public = new_public()
    expires = timezone.now() + timedelta(days=30)
    mark = last_event_id()

    key = key_register(user=bob, public_key=public_key_to_base64(public), name="laptop",
                       expires_at=expires)

    [event] = events_since(mark)
    assert event.event_type == "key.registered"
    assert (event.actor_id, event.organization_id) == (bob.pk, lab.pk)
    assert event.payload == {
        "key_id": public_key_id(public),
        "public_key": public_key_to_base64(public),
        "name": "laptop",
        "user": "bob",
        "user_id": bob.pk,
        "organization": lab.pk,
        "created_at": key.created_at.isoformat().replace("+00:00", "Z"),
        "expires_at": expires.isoformat().replace("+00:00", "Z"),
    }


def test_a_pem_key_is_stored_as_raw_base64_under_the_same_id(bob):
    public = new_public()

    key = key_register(user=bob, public_key=public_key_to_pem(public), name="pem")

    assert key.public_key == public_key_to_base64(public)
    assert key.key_id == public_key_id(public)


def test_the_same_key_cannot_be_registered_twice_in_any_encoding(lab, bob):
    public = new_public()
    key_register(user=bob, public_key=public_key_to_base64(public), name="one")
    carol = factories.person(lab, "lab_signer")
    mark = last_event_id()

    with pytest.raises(Conflict, match="already registered"):
        key_register(user=carol, public_key=public_key_to_pem(public), name="two")

    assert events_since(mark) == []
    assert SigningKey.objects.count() == 1


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (public_key_to_pem(ec.generate_private_key(ec.SECP256R1()).public_key()),
         "expected an Ed25519 key"),
        (base64.b64encode(b"x" * 33).decode(), "32 bytes"),
        ("not a key", "neither PEM"),
        (ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode(), "PRIVATE key"),
    ],
    ids=["p256", "33-bytes", "garbage", "private-key"],
)
def test_keys_that_are_not_ed25519_public_keys_are_refused(bob, text, says):
    mark = last_event_id()

    with pytest.raises(ValidationFailed, match=says) as caught:
        key_register(user=bob, public_key=text, name="bad")

    assert caught.value.detail["fields"][0]["path"] == "public_key"
    assert events_since(mark) == []


def test_a_key_expiring_in_the_past_is_refused(bob):
    with pytest.raises(ValidationFailed, match="must be in the future"):
        key_register(user=bob, public_key=public_key_to_base64(new_public()), name="k",
                     expires_at=timezone.now() - timedelta(seconds=1))


def test_revoking_writes_one_event_and_cannot_be_repeated(lab, bob):
    key = key_register(user=bob, public_key=public_key_to_base64(new_public()), name="k")
    mark = last_event_id()

    key_revoke(key_pk=key.pk, reason="laptop lost", actor=bob)

    [event] = events_since(mark)
    key.refresh_from_db()
    assert event.event_type == "key.revoked"
    assert event.payload["key_id"] == key.key_id
    assert event.payload["public_key"] == key.public_key
    assert event.payload["user_id"] == bob.pk
    assert event.payload["reason"] == "laptop lost"
    assert event.payload["revoked_at"] == key.revoked_at.isoformat().replace("+00:00", "Z")
    with pytest.raises(Conflict, match="was revoked"):
        key_revoke(key_pk=key.pk, reason="again", actor=bob)
    assert len(events_since(mark)) == 1


def test_a_revocation_needs_a_reason(bob):
    key = key_register(user=bob, public_key=public_key_to_base64(new_public()), name="k")

    with pytest.raises(ValidationFailed, match="reason"):
        key_revoke(key_pk=key.pk, reason="  ", actor=bob)


def test_rotating_registers_the_new_key_and_revokes_the_old_in_one_event(bob):
    old = key_register(user=bob, public_key=public_key_to_base64(new_public()), name="old")
    public = new_public()
    mark = last_event_id()

    new = key_rotate(key_pk=old.pk, public_key=public_key_to_base64(public), name="new",
                     actor=bob)

    [event] = events_since(mark)
    old.refresh_from_db()
    assert event.event_type == "key.rotated"
    assert event.subject_id == str(new.pk)
    assert event.payload["key_id"] == public_key_id(public) == new.key_id
    assert event.payload["public_key"] == public_key_to_base64(public)
    assert event.payload["revoked_key_id"] == old.key_id
    assert event.payload["revoked_reason"] == f"rotated to {new.key_id}"
    assert old.revoked_at is not None
    assert new.revoked_at is None
    assert new.user_id == bob.pk


def test_a_rotation_to_a_bad_key_changes_nothing(bob):
    old = key_register(user=bob, public_key=public_key_to_base64(new_public()), name="old")
    mark = last_event_id()

    with pytest.raises(ValidationFailed):
        key_rotate(key_pk=old.pk, public_key="nope", name="new", actor=bob)

    old.refresh_from_db()
    assert old.revoked_at is None
    assert events_since(mark) == []
