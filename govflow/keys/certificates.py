"""Key certificates: a regulator vouches that a signing key is a person's, for a role in
a lab, for a period; and withdraws that. Each is a signed act of the kernel
(`govflow.keys.acts`) recording one row and one audit event carrying the envelope.

Why: the lab runs the server, so a key the server registers "for" a signer proves
nothing about her. A policy gate with ``certified_keys: true`` counts only approvals
under certified keys, and the offline verifier counts only certificates that verify
under a regulator key it was given (``--regulator-key``), never one the log names.

Who may certify whom: any regulator (regulators act as one body, and the verifier pins
the keys it trusts), only keys of a lab's staff, in a lab role the person holds in that
lab when certified. A regulator's own keys, and auditors', are not certified here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model

from govflow.accounts.access import LAB_STAFF, has_lab_role, require_regulator
from govflow.accounts.models import Organization, OrganizationKind
from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.core.errors import Conflict, NotFound, field_error
from govflow.core.times import rfc3339
from govflow.keys.acts import SignedAct, signed_act, signed_fields
from govflow.keys.certificate_predicates import (
    KEY_CERTIFICATE_PREDICATE,
    KEY_CERTIFICATE_REVOCATION_PREDICATE,
    KeyCertificateClaim,
    KeyCertificateRevocationClaim,
)
from govflow.keys.models import KeyCertificate, SigningKey
from govflow.keys.verification import Verified
from govflow.trust.keys import parse_public_key, public_key_to_base64

FIELD = "envelope.payload: predicate."


def _certified_person(claim: KeyCertificateClaim) -> tuple[Any, Organization]:
    org = Organization.objects.filter(slug=claim.organization).first()
    if org is None or org.kind != OrganizationKind.LAB:
        raise field_error(FIELD + "organization", f"{claim.organization!r} is not a lab")
    if org.pk != claim.organization_id:
        raise field_error(FIELD + "organization_id", f"{claim.organization} is {org.pk}")
    user = get_user_model().objects.filter(pk=claim.user_id).first()
    if user is None or user.get_username() != claim.username:
        raise field_error(FIELD + "user_id", f"user {claim.user_id} is not {claim.username!r}")
    if claim.role not in LAB_STAFF:
        raise field_error(FIELD + "role", f"{claim.role!r} is not a lab role; roles: "
                          + ", ".join(sorted(LAB_STAFF)))
    if not has_lab_role(user, org, roles=[claim.role]):
        raise Conflict(f"{claim.username} does not hold the role {claim.role} in "
                       f"{claim.organization}", detail={"rule": "not_a_member"})
    return user, org


def _live_key(claim: KeyCertificateClaim, user: Any, now: datetime) -> SigningKey:
    key = SigningKey.objects.select_for_update().filter(key_id=claim.key_id).first()
    if key is None or key.user_id != user.pk:
        raise Conflict(f"key {claim.key_id} is not registered to {claim.username}",
                       detail={"rule": "unknown_key"})
    if public_key_to_base64(parse_public_key(claim.public_key)) != key.public_key:
        raise field_error(FIELD + "public_key", f"is not the public key of {claim.key_id}")
    if not key.is_usable_at(now):
        raise Conflict(f"key {claim.key_id} is revoked or expired", detail={"rule": "key_revoked"})
    return key


def key_certificate_issue(*, verified: Verified, actor: Any, now: datetime, target: Any = None,
                          context: Any = None) -> KeyCertificate:
    """Record a regulator's signed key certificate (inside the kernel's transaction)."""
    claim: KeyCertificateClaim = verified.claim
    user, org = _certified_person(claim)
    if claim.valid_until <= now:
        raise field_error(FIELD + "valid_until", f"is already past (now is {rfc3339(now)})")
    key = _live_key(claim, user, now)
    certificate = KeyCertificate.objects.create(
        key=key, user=user, organization=org, role=claim.role, valid_from=claim.valid_from,
        valid_until=claim.valid_until, issued_by=actor, issuer_key=verified.key,
        nonce=claim.nonce, claimed_signed_at=claim.signed_at, envelope=verified.envelope,
        statement=verified.statement, issued_at=now,
    )
    audit_append(
        event_type=EventType.KEY_CERTIFICATE_ISSUED, actor=actor, subject=certificate,
        organization_id=org.pk,
        payload={
            "certificate": certificate.pk, "certified_key_id": key.key_id,
            "certified_user": user.get_username(), "certified_user_id": user.pk,
            "organization": org.slug, "organization_id": org.pk, "role": claim.role,
            "valid_from": rfc3339(claim.valid_from), "valid_until": rfc3339(claim.valid_until),
            "user": actor.get_username(), "user_id": actor.pk, **signed_fields(verified),
        },
    )
    return certificate


def key_certificate_revoke(*, verified: Verified, actor: Any, now: datetime, target: int,
                           context: Any = None) -> KeyCertificate:
    """Record a regulator's signed revocation of key certificate ``target``, and with it of
    every other certificate of the same key still in force (the offline verifier matches a
    revocation by key: a certificate id is the server's to assign). Approvals signed under
    the key from now on stop counting where certified keys are required."""
    claim: KeyCertificateRevocationClaim = verified.claim
    if claim.certificate != target:
        raise field_error(FIELD + "certificate", f"must be {target}")
    certificate = (KeyCertificate.objects.select_for_update(of=("self",))
                   .select_related("key", "organization").filter(pk=target).first())
    if certificate is None:
        raise NotFound(f"key certificate {target} does not exist")
    if (claim.key_id, claim.organization) != (certificate.key.key_id,
                                              certificate.organization.slug):
        raise field_error(FIELD + "key_id", f"key certificate {target} is of key "
                          f"{certificate.key.key_id} in {certificate.organization.slug}")
    if certificate.revoked_at is not None:
        raise Conflict(f"key certificate {target} was revoked at "
                       f"{rfc3339(certificate.revoked_at)}", detail={"rule": "revoked"})
    withdrawn = list(KeyCertificate.objects.select_for_update().filter(
        key_id=certificate.key_id, revoked_at__isnull=True).order_by("id"))
    for row in withdrawn:
        row.revoked_at, row.revoked_reason, row.revoked_by = now, claim.reason.strip(), actor
        row.save(update_fields=["revoked_at", "revoked_reason", "revoked_by"])
    certificate.refresh_from_db()
    audit_append(
        event_type=EventType.KEY_CERTIFICATE_REVOKED, actor=actor, subject=certificate,
        organization_id=certificate.organization_id,
        payload={
            "certificate": certificate.pk, "certificates": [row.pk for row in withdrawn],
            "certified_key_id": certificate.key.key_id,
            "certified_user_id": certificate.user_id,
            "organization_id": certificate.organization_id, "reason": claim.reason.strip(),
            "revoked_at": rfc3339(now), "user": actor.get_username(), "user_id": actor.pk,
            **signed_fields(verified),
        },
    )
    return certificate


def _regulator(actor: Any, claim: Any, target: Any) -> None:  # noqa: ARG001
    require_regulator(actor)


KEY_CERTIFY = signed_act(SignedAct("key.certify", KEY_CERTIFICATE_PREDICATE,
                                   authorise=_regulator, record=key_certificate_issue))
KEY_CERTIFICATE_REVOKE = signed_act(SignedAct(
    "key.certificate_revoke", KEY_CERTIFICATE_REVOCATION_PREDICATE, authorise=_regulator,
    record=key_certificate_revoke))
