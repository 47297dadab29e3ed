"""Recording sign-offs: check the verified statement is for the release's current
state, store it with its audit event.

The signature, the signer's key and the nonce are the kernel's (`govflow.keys.acts`): a
sign-off reaches `signoff_record` only inside its recording transaction, with a usable
key of the submitter and a nonce the server issued to them. Here the statement must name
the release's *current* round (transition, stage entry, gate-report, policy and manifest
digests). The checks of state run under the release row lock, the same lock
`release_advance` takes, so a sign-off and an advance cannot interleave.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.core.errors import Conflict
from govflow.keys.acts import nonce_held, nonce_issue
from govflow.keys.verification import Verified
from govflow.releases.locks import lock_release
from govflow.releases.models import Release, ReleaseStatus
from govflow.releases.services import release_gate_report
from govflow.signoffs.models import SignOff
from govflow.signoffs.predicate import PREDICATE_TYPE, SignoffClaim, build_statement
from govflow.signoffs.selectors import stage_entry_of
from govflow.trust.statements import subject_name


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
    *, release: Release, actor, role: str, decision: str, comment: str,
    nonce: str | None = None,
) -> dict[str, Any]:
    """The statement to sign for the release's next step, with a nonce the server issues
    to ``actor`` (single use, expiring; no one else may sign with it). Changes nothing
    else: an unused nonce grants nothing. ``nonce``: one the server issued to ``actor``
    before (GET …/signoff-nonce), still unused and unexpired."""
    r = current_round(release=release, actor=actor)
    version = release.system_version
    return build_statement(
        release=r.release, system_id=version.system_id, version_number=version.number,
        manifest_digest=r.manifest_digest, from_stage=r.from_stage, to_stage=r.to_stage,
        stage_entry=r.stage_entry, gate_report_digest=r.gate_report_digest,
        policy_digest=r.policy_digest, role=role, decision=decision, comment=comment,
        nonce=(nonce_held(nonce=nonce, user=actor, predicate_type=PREDICATE_TYPE).nonce if nonce
               else nonce_issue(user=actor, predicate_type=PREDICATE_TYPE).nonce),
    )


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


def signoff_record(*, verified: Verified, actor, now: datetime, target=None,
                   context=None) -> SignOff:
    """Store a verified sign-off if it is for the release's current round (inside the
    kernel's recording transaction)."""
    claim: SignoffClaim = verified.claim
    release = lock_release(claim.release)
    _check_current(claim, current_round(release=release, actor=actor))
    signoff = SignOff.objects.create(
        release=release, stage_entry_id=claim.stage_entry, from_stage=claim.from_stage,
        target_stage=claim.to_stage, signer=actor, key=verified.key, role=claim.role,
        decision=claim.decision, comment=claim.comment, nonce=claim.nonce,
        gate_report_digest=claim.gate_report_digest, policy_digest=claim.policy_digest,
        manifest_digest=claim.manifest_digest, claimed_signed_at=claim.signed_at,
        envelope=verified.envelope, statement=verified.statement, recorded_at=now,
    )
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
            "key_id": verified.key.key_id,
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
