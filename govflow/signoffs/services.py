"""Recording sign-offs: verify the signed statement, check it is for the release's
current state, store it with its audit event.

A sign-off is refused with nothing written unless its envelope verifies under a
usable key of the submitter, the statement names the release's *current* round
(transition, stage entry, gate-report, policy and manifest digests), and its nonce
was never used. The checks of state run under the release row lock, the same lock
`release_advance` takes, so a sign-off and an advance cannot interleave.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.core.errors import Conflict, ValidationFailed
from govflow.keys.models import SigningKey
from govflow.keys.verification import verify_user_envelope
from govflow.releases.locks import lock_release
from govflow.releases.models import Release, ReleaseStatus
from govflow.releases.services import release_gate_report
from govflow.signoffs.models import SignOff
from govflow.signoffs.selectors import stage_entry_of
from govflow.signoffs.statement import (
    PAYLOAD_TYPE,
    SignoffClaim,
    SignoffStatementError,
    build_statement,
    parse_statement,
    subject_name,
)


@dataclass(frozen=True)
class Round:
    """What a sign-off for the release's next step must name right now."""

    release: int
    from_stage: str
    to_stage: str
    stage_entry: int
    gate_report_digest: str
    policy_digest: str
    manifest_digest: str
    subject_name: str


def current_round(*, release: Release, actor) -> Round:
    if release.status == ReleaseStatus.HALTED:
        raise Conflict(f"release {release.pk} is halted; there is nothing to sign off")
    report = release_gate_report(release=release, target=None, actor=actor)
    version = release.system_version
    return Round(
        release=release.pk,
        from_stage=report["from"],
        to_stage=report["target"],
        stage_entry=stage_entry_of(release).pk,
        gate_report_digest=report["evidence_digest"],
        policy_digest=report["policy_digest"],
        manifest_digest=report["manifest_digest"],
        subject_name=subject_name(version.system_id, version.number),
    )


def signoff_statement(
    *, release: Release, actor, role: str, decision: str, comment: str
) -> dict[str, Any]:
    """The statement to sign for the release's next step, with a fresh nonce. Changes
    nothing: the nonce is checked for reuse only when the signed statement comes back."""
    r = current_round(release=release, actor=actor)
    version = release.system_version
    return build_statement(
        release=r.release, system_id=version.system_id, version_number=version.number,
        manifest_digest=r.manifest_digest, from_stage=r.from_stage, to_stage=r.to_stage,
        stage_entry=r.stage_entry, gate_report_digest=r.gate_report_digest,
        policy_digest=r.policy_digest, role=role, decision=decision, comment=comment,
        nonce=secrets.token_urlsafe(24),
    )


@dataclass(frozen=True)
class VerifiedSignoff:
    envelope: dict[str, Any]
    statement: dict[str, Any]
    claim: SignoffClaim
    key: SigningKey


def signoff_verify(*, envelope: dict[str, Any], actor, now: datetime) -> VerifiedSignoff:
    """Check the signature (a usable key of ``actor``) and the statement's shape. Reads only."""
    verified = verify_user_envelope(envelope, actor, now=now, payload_type=PAYLOAD_TYPE)
    try:
        statement, claim = parse_statement(verified.payload)
    except SignoffStatementError as exc:
        raise ValidationFailed(
            f"not a govflow sign-off statement: {exc}",
            detail={"fields": [{"path": f"envelope.payload: {exc.path}", "message": exc.message}]},
        ) from exc
    # Only what DSSE defines is kept: unknown envelope fields carry no meaning and
    # must not ride into the log.
    kept = {
        "payload": envelope["payload"],
        "payloadType": envelope["payloadType"],
        "signatures": [{"keyid": s.get("keyid", ""), "sig": s["sig"]}
                       for s in envelope["signatures"]],
    }
    return VerifiedSignoff(envelope=kept, statement=statement, claim=claim, key=verified.key)


def _stale(field: str, claimed: Any, current: Any, why: str) -> Conflict:
    return Conflict(
        f"stale or replayed sign-off: the statement's {field} is {claimed!r} but the release's "
        f"current one is {current!r} ({why}); fetch a new payload and sign again",
        detail={"rule": "stale", "field": field, "claimed": claimed, "current": current},
    )


def _check_current(claim: SignoffClaim, r: Round) -> None:
    checks = [
        ("transition", {"from": claim.from_stage, "to": claim.to_stage},
         {"from": r.from_stage, "to": r.to_stage}, "the release has moved"),
        ("stage_entry", claim.stage_entry, r.stage_entry,
         "the release has left and re-entered its stage, e.g. by a rollback"),
        ("policy_digest", claim.policy_digest, r.policy_digest, "another policy"),
        ("subject", (claim.subject_name, claim.manifest_digest),
         (r.subject_name, r.manifest_digest), "another system version"),
        ("gate_report_digest", claim.gate_report_digest, r.gate_report_digest,
         "the evidence changed since the statement was made"),
    ]
    for field, claimed, current, why in checks:
        if claimed != current:
            raise _stale(field, claimed, current, why)


@transaction.atomic
def signoff_record(
    *, verified: VerifiedSignoff, actor, now: datetime | None = None
) -> SignOff:
    """Store a verified sign-off if it is for the release's current round."""
    now = now or timezone.now()
    claim = verified.claim
    release = lock_release(claim.release)
    # Re-read the key under its lock: a revocation committed since verification wins.
    key = SigningKey.objects.select_for_update().get(pk=verified.key.pk)
    if not key.is_usable_at(now):
        raise Conflict(f"key {key.key_id} was revoked or expired just now; sign again",
                       detail={"rule": "key_revoked"})
    _check_current(claim, current_round(release=release, actor=actor))
    if SignOff.objects.filter(nonce=claim.nonce).exists():
        raise Conflict("replayed sign-off: this statement's nonce was already used",
                       detail={"rule": "replayed"})
    try:
        with transaction.atomic():  # savepoint: a concurrent twin loses on the constraint
            signoff = SignOff.objects.create(
                release=release, stage_entry_id=claim.stage_entry, from_stage=claim.from_stage,
                target_stage=claim.to_stage, signer=actor, key=key, role=claim.role,
                decision=claim.decision, comment=claim.comment, nonce=claim.nonce,
                gate_report_digest=claim.gate_report_digest, policy_digest=claim.policy_digest,
                manifest_digest=claim.manifest_digest, claimed_signed_at=claim.signed_at,
                envelope=verified.envelope, statement=verified.statement, recorded_at=now,
            )
    except IntegrityError as exc:
        raise Conflict("replayed sign-off: this statement's nonce was already used",
                       detail={"rule": "replayed"}) from exc
    audit_append(
        event_type=EventType.SIGNOFF_RECORDED,
        actor=actor,
        subject=signoff,
        organization_id=release.organization_id,
        release_id=release.pk,
        payload={
            "user": actor.get_username(),
            "user_id": actor.pk,
            "role": claim.role,
            "decision": claim.decision,
            "key_id": key.key_id,
            "from": claim.from_stage,
            "to": claim.to_stage,
            "stage_entry": claim.stage_entry,
            "gate_report_digest": claim.gate_report_digest,
            "nonce": claim.nonce,
            "envelope": verified.envelope,
            "statement": verified.statement,
        },
    )
    return signoff
