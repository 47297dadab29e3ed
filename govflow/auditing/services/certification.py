"""Certifying auditor organizations, and suspending, reinstating or revoking a
certificate. Each is one transaction with one audit event.

A certificate is the regulator's signed statement, and so is each suspension,
reinstatement and revocation through the API (the certificate-status predicate, run by
the kernel); they take effect at once: every check of
a certificate (assignment, filing, the access grants others read, the gate) reads its
status as committed, so nothing is accepted under it after the change commits.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from govflow.accounts.models import Organization, OrganizationKind
from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.auditing.locks import lock_certificate
from govflow.auditing.models import Assignment, Certificate, CertificateStatus
from govflow.auditing.services.standing import iso
from govflow.core.errors import Conflict, ValidationFailed, field_error
from govflow.keys.acts import signed_fields
from govflow.keys.verification import Verified


def certificate_issue(*, verified: Verified, actor, now: datetime, target=None,
                      context=None) -> Certificate:
    """Record a regulator's signed certificate of an auditor organization (inside the
    kernel's recording transaction, `govflow.keys.acts`)."""
    claim = verified.claim
    auditor = Organization.objects.filter(slug=claim.auditor).first()
    if auditor is None or auditor.kind != OrganizationKind.AUDITOR:
        raise field_error("envelope.payload: predicate.auditor",
                          f"{claim.auditor!r} is not an auditor organization")
    if claim.valid_until <= now:
        raise field_error("envelope.payload: predicate.valid_until",
                          f"is already past (now is {iso(now)})")
    key = verified.key
    certificate = Certificate.objects.create(
        auditor=auditor, issued_by=actor, key=key, risk_areas=claim.risk_areas,
        access_levels=claim.access_levels, standard=claim.standard,
        valid_from=claim.valid_from, valid_until=claim.valid_until, nonce=claim.nonce,
        claimed_signed_at=claim.signed_at, envelope=verified.envelope,
        statement=verified.statement, issued_at=now,
    )
    audit_append(
        event_type=EventType.CERTIFICATE_ISSUED,
        actor=actor,
        subject=certificate,
        organization_id=auditor.pk,
        payload={
            "certificate": certificate.pk,
            "auditor": auditor.slug,
            "auditor_id": auditor.pk,
            "risk_areas": claim.risk_areas,
            "access_levels": claim.access_levels,
            "standard": claim.standard,
            "valid_from": iso(claim.valid_from),
            "valid_until": iso(claim.valid_until),
            "user": actor.get_username(),
            "user_id": actor.pk,
            "key_id": key.key_id,
            "nonce": claim.nonce,
            "envelope": verified.envelope,
            "statement": verified.statement,
        },
    )
    return certificate


# event: (statuses it may start from, resulting status)
_MOVES = {
    EventType.CERTIFICATE_SUSPENDED: ({CertificateStatus.ACTIVE}, CertificateStatus.SUSPENDED),
    EventType.CERTIFICATE_REINSTATED: ({CertificateStatus.SUSPENDED}, CertificateStatus.ACTIVE),
    EventType.CERTIFICATE_REVOKED: (
        {CertificateStatus.ACTIVE, CertificateStatus.SUSPENDED}, CertificateStatus.REVOKED
    ),
}


@transaction.atomic
def certificate_set_status(*, certificate_id: int, move: EventType, reason: str, actor,
                           now: datetime | None = None,
                           signed: Verified | None = None) -> Certificate:
    """Suspend, reinstate or revoke a certificate. A revocation is final. ``signed`` is the
    regulator's verified statement ordering it (its signature rides in the event)."""
    allowed_from, new_status = _MOVES[move]
    if not reason.strip():
        raise field_error("reason", "may not be blank")
    now = now or timezone.now()
    certificate = lock_certificate(certificate_id)
    if certificate.status not in allowed_from:
        raise Conflict(f"certificate {certificate.pk} is {certificate.status}; it cannot "
                       f"become {new_status}")
    old = certificate.status
    certificate.status = new_status
    certificate.status_changed_at = now
    certificate.status_reason = reason.strip()
    certificate.save(update_fields=["status", "status_changed_at", "status_reason"])
    # For the record: the engagements whose access this change stops (or restores).
    engagements = list(Assignment.objects.filter(certificate=certificate, ended_at__isnull=True)
                       .order_by("id").values_list("id", flat=True))
    audit_append(
        event_type=move,
        actor=actor,
        subject=certificate,
        organization_id=certificate.auditor_id,
        payload={"certificate": certificate.pk, "auditor_id": certificate.auditor_id,
                 "from_status": old, "to_status": new_status, "reason": reason.strip(),
                 "open_assignments": engagements, **signed_fields(signed)},
    )
    return certificate


MOVE_OF_ACTION = {"suspend": EventType.CERTIFICATE_SUSPENDED,
                  "reinstate": EventType.CERTIFICATE_REINSTATED,
                  "revoke": EventType.CERTIFICATE_REVOKED}


def certificate_status_record(*, verified: Verified, actor, now: datetime, target: int,
                              context: str) -> Certificate:
    """A signed suspension, reinstatement or revocation of certificate ``target``; the
    statement must say ``context`` (the endpoint's move) and name the certificate's firm.
    Inside the kernel's recording transaction."""
    claim = verified.claim
    if claim.action != context:
        raise ValidationFailed(f"the statement says {claim.action!r}, this endpoint records "
                               f"{context!r}", detail={"rule": "wrong_action"})
    if claim.certificate != target:
        raise field_error("envelope.payload: predicate.certificate", f"must be {target}")
    certificate = lock_certificate(target)
    if certificate.auditor.slug != claim.auditor:
        raise field_error("envelope.payload: predicate.auditor",
                          f"certificate {target} is of {certificate.auditor.slug}")
    return certificate_set_status(certificate_id=target, move=MOVE_OF_ACTION[context],
                                  reason=claim.reason, actor=actor, now=now, signed=verified)


def certificate_suspend(*, certificate_id: int, reason: str, actor) -> Certificate:
    return certificate_set_status(certificate_id=certificate_id, reason=reason, actor=actor,
                                  move=EventType.CERTIFICATE_SUSPENDED)


def certificate_reinstate(*, certificate_id: int, reason: str, actor) -> Certificate:
    return certificate_set_status(certificate_id=certificate_id, reason=reason, actor=actor,
                                  move=EventType.CERTIFICATE_REINSTATED)


def certificate_revoke(*, certificate_id: int, reason: str, actor) -> Certificate:
    return certificate_set_status(certificate_id=certificate_id, reason=reason, actor=actor,
                                  move=EventType.CERTIFICATE_REVOKED)
