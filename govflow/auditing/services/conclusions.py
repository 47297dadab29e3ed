"""Recording an auditor's signed audit conclusion, which closes the engagement.

The conclusion must list every finding its auditor filed in the engagement: an auditor
cannot conclude while leaving its worst finding out (the source's "hiding the worst
finding so as not to lose a client"). It is taken under the assignment's row lock,
which filing also takes, so no finding can be filed between the check and the close.
Concluding revokes the auditor's access grant; a *fail* may send the release back when
the policy says so (`returns`).
"""

from __future__ import annotations

from datetime import datetime

from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.auditing.locks import lock_assignment
from govflow.auditing.models import Conclusion, EndReason, Finding
from govflow.auditing.services.assignment import close_engagement
from govflow.auditing.services.returns import return_if_policy_says
from govflow.auditing.services.standing import certificate_refusal
from govflow.core.errors import Conflict, NotFound, ValidationFailed
from govflow.keys.acts import release_subject, subject_check
from govflow.keys.verification import Verified
from govflow.releases.locks import lock_release
from govflow.releases.models import Release


def _payload_error(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, detail={"fields": [
        {"path": f"envelope.payload: predicate.{field}", "message": message}]})


def conclusion_record(*, verified: Verified, actor, now: datetime, target=None,
                      context=None) -> Conclusion:
    """Inside the kernel's recording transaction (`govflow.keys.acts`)."""
    claim = verified.claim
    failed = claim.result == "fail"
    # A fail may move the release: take its lock first, before the assignment's.
    release = lock_release(claim.release) if failed else (
        Release.objects.select_related("system_version").filter(pk=claim.release).first()
    )
    if release is None:
        raise NotFound(f"release {claim.release} does not exist")
    assignment = lock_assignment(claim.engagement)
    if assignment.auditor_id != actor.pk:
        raise NotFound(f"you hold no engagement {claim.engagement}")
    if assignment.release_id != release.pk:
        raise _payload_error("release", f"engagement {assignment.pk} is on release "
                                        f"{assignment.release_id}")
    if not assignment.is_open:
        raise Conflict(f"engagement {assignment.pk} already ended ({assignment.end_reason})",
                       detail={"rule": "engagement_ended"})
    refusal = certificate_refusal(assignment.certificate, now)
    if refusal is not None:
        raise refusal
    subject_check(verified, release_subject(release), release.pk)
    filed = set(Finding.objects.filter(assignment=assignment).values_list("id", flat=True))
    named = set(claim.findings)
    if named != filed:
        missing, foreign = sorted(filed - named), sorted(named - filed)
        parts = ([f"leaves out finding(s) {missing} that you filed in this engagement"]
                 if missing else []) + (
            [f"names finding(s) {foreign} you did not file in this engagement"] if foreign else [])
        raise _payload_error("findings", "the conclusion " + " and ".join(parts))
    key = verified.key
    conclusion = Conclusion.objects.create(
        assignment=assignment, release=release, auditor=actor, key=key,
        result=claim.result, summary=claim.summary, conditions=claim.conditions,
        nonce=claim.nonce, claimed_signed_at=claim.signed_at,
        envelope=verified.envelope, statement=verified.statement, recorded_at=now,
    )
    if filed:
        conclusion.findings.add(*sorted(filed))
    grant = close_engagement(assignment, reason=EndReason.CONCLUDED,
                             note=f"concluded: {claim.result}", now=now)
    audit_append(
        event_type=EventType.CONCLUSION_RECORDED,
        actor=actor,
        subject=conclusion,
        organization_id=release.organization_id,
        release_id=release.pk,
        payload={"conclusion": conclusion.pk, "assignment": assignment.pk,
                 "user": actor.get_username(), "user_id": actor.pk, "result": claim.result,
                 "conditions": claim.conditions, "findings": sorted(filed),
                 "grant_revoked": grant, "key_id": key.key_id, "nonce": claim.nonce,
                 "envelope": verified.envelope, "statement": verified.statement},
    )
    conclusion.returned_to = None
    if failed:
        conclusion.returned_to = return_if_policy_says(
            release=release, trigger="failed_conclusion", actor=actor, now=now,
            reason=f"audit conclusion #{conclusion.pk} by {actor.get_username()} is fail",
        )
    return conclusion
