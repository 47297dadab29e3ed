"""Filing findings and appending statements to them.

A finding is recorded only if its envelope verifies under a usable key of the filing
auditor (the kernel, `govflow.keys.acts`, which also spends the nonce), the auditor's
engagement on the release is in force (open assignment, access grant, active and
unexpired certificate), the statement is about the release's system version, every
attachment it names was uploaded. Nothing is ever changed
afterwards: a response, an amendment, a resolution or a decision is a new signed
statement appended under the finding's row lock, checked against the lifecycle.
"""

from __future__ import annotations

from datetime import datetime

from govflow.accounts.selectors import user_organization
from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.auditing.lifecycle import OPEN, LifecycleError, next_status
from govflow.auditing.locks import lock_finding
from govflow.auditing.models import Finding, FindingStatement
from govflow.auditing.services.attachments import attachments_named
from govflow.auditing.services.returns import return_if_policy_says
from govflow.auditing.services.standing import engagement_in_force, require_certified
from govflow.core.errors import Conflict, NotFound, ValidationFailed
from govflow.keys.acts import release_subject, subject_check
from govflow.keys.verification import Verified
from govflow.releases.locks import lock_release
from govflow.releases.models import Release

CRITICAL = "critical"


def _release(release_id: int, *, lock: bool) -> Release:
    if lock:
        return lock_release(release_id)
    release = Release.objects.select_related("system_version").filter(pk=release_id).first()
    if release is None:
        raise NotFound(f"release {release_id} does not exist")
    return release


def _signed_fields(verified: Verified, key) -> dict:
    return {"key_id": key.key_id, "nonce": verified.claim.nonce,
            "envelope": verified.envelope, "statement": verified.statement}


def finding_file(*, verified: Verified, actor, now: datetime, target=None,
                 context=None) -> Finding:
    """Record a signed finding (inside the kernel's recording transaction). A critical
    one may send the release back (policy)."""
    claim = verified.claim
    critical = claim.severity == CRITICAL
    # Only a critical finding can move the release, so only it takes the release lock
    # (first, as every release service does); other findings serialise on the
    # engagement alone and do not queue behind each other on the release row.
    release = _release(claim.release, lock=True) if critical else None
    engagement = engagement_in_force(release_id=claim.release, auditor=actor, now=now,
                                     lock=True)
    subject_check(verified, engagement.subject, engagement.release_id)
    attachments = attachments_named(engagement.release_id, claim.attachments)
    org = user_organization(actor)
    finding = Finding.objects.create(
        release_id=engagement.release_id, assignment_id=engagement.assignment_id,
        auditor=actor, auditor_organization=org, key=verified.key,
        title=claim.title, severity=claim.severity, category=claim.category,
        description=claim.description, reproduction_steps=claim.reproduction_steps,
        nonce=claim.nonce, claimed_signed_at=claim.signed_at,
        envelope=verified.envelope, statement=verified.statement, filed_at=now,
    )
    if attachments:
        finding.attachments.add(*attachments)
    finding.filed_attachments = attachments  # shown as attached, without reading them back
    audit_append(
        event_type=EventType.FINDING_FILED,
        actor=actor,
        subject=finding,
        organization_id=engagement.lab_id,
        release_id=engagement.release_id,
        payload={"finding": finding.pk, "user": actor.get_username(), "user_id": actor.pk,
                 "auditor_organization": org.slug, "assignment": engagement.assignment_id,
                 "title": claim.title, "severity": claim.severity, "category": claim.category,
                 "attachments": [{"name": n, "sha256": sha} for n, sha in claim.attachments],
                 **_signed_fields(verified, verified.key)},
    )
    finding.returned_to = None
    if critical:
        finding.returned_to = return_if_policy_says(
            release=release, trigger="critical_finding", actor=actor, now=now,
            reason=f"critical finding #{finding.pk} filed by {actor.get_username()}: "
                   f"{claim.title}",
        )
    return finding


def finding_state(finding: Finding) -> tuple[str, str]:
    """(status, severity) as the finding's latest statement left them."""
    latest = (FindingStatement.objects.filter(finding=finding).order_by("-id")
              .values_list("status_to", "severity_after").first())
    return latest if latest is not None else (OPEN, finding.severity)


def finding_statement_append(*, verified: Verified, actor, now: datetime, target: int,
                             context=None) -> FindingStatement:
    """Append a signed response, amendment, resolution, risk acceptance, dispute,
    escalation or decision to finding ``target`` (inside the kernel's recording
    transaction). The kernel's authorise step has checked the actor's party may take it."""
    finding_id = target
    claim = verified.claim
    if claim.finding != finding_id:
        raise ValidationFailed(
            f"the statement is for finding {claim.finding}, not {finding_id}",
            detail={"fields": [{"path": "envelope.payload: predicate.finding",
                                "message": f"must be {finding_id}"}]},
        )
    raising = claim.action == "amend" and claim.severity == CRITICAL
    release = _release(claim.release, lock=raising)  # release first, as everywhere
    finding = lock_finding(finding_id)
    if finding.release_id != release.pk:
        raise ValidationFailed(
            f"finding {finding.pk} is on release {finding.release_id}, not {release.pk}",
            detail={"fields": [{"path": "envelope.payload: predicate.release",
                                "message": f"must be {finding.release_id}"}]},
        )
    subject_check(verified, release_subject(release), release.pk)
    status, severity = finding_state(finding)
    try:
        status_to = next_status(action=claim.action, status=status, severity=severity,
                                outcome=claim.outcome)
    except LifecycleError as exc:
        raise Conflict(str(exc), detail={"rule": "lifecycle", "status": status}) from exc
    if actor.pk == finding.auditor_id:
        require_certified(finding.assignment, now)
    attachments = attachments_named(release.pk, claim.attachments)
    key = verified.key
    org = user_organization(actor)
    row = FindingStatement.objects.create(
        finding=finding, author=actor, author_organization=org, key=key,
        action=claim.action, text=claim.text, outcome=claim.outcome or "",
        status_from=status, status_to=status_to,
        severity_after=claim.severity or severity, nonce=claim.nonce,
        claimed_signed_at=claim.signed_at, envelope=verified.envelope,
        statement=verified.statement, recorded_at=now,
    )
    if attachments:
        row.attachments.add(*attachments)
    audit_append(
        event_type=EventType.FINDING_STATEMENT_APPENDED,
        actor=actor,
        subject=row,
        organization_id=release.organization_id,
        release_id=release.pk,
        payload={"finding": finding.pk, "statement_id": row.pk, "user": actor.get_username(),
                 "user_id": actor.pk, "organization": org.slug, "action": claim.action,
                 "outcome": claim.outcome, "status_from": status, "status_to": status_to,
                 "severity_from": severity, "severity_to": row.severity_after,
                 "attachments": [{"name": n, "sha256": sha} for n, sha in claim.attachments],
                 **_signed_fields(verified, key)},
    )
    row.returned_to = None
    if raising and severity != CRITICAL:
        row.returned_to = return_if_policy_says(
            release=release, trigger="critical_finding", actor=actor, now=now,
            reason=f"finding #{finding.pk} amended to critical by {actor.get_username()}",
        )
    return row
