"""Authorisation for auditing: see the object first (else 404), then hold the role or be
the party an action belongs to (else 403)."""

from __future__ import annotations

from govflow.accounts.access import (
    LAB_STAFF,
    has_lab_role,
    holds_any_role,
    is_auditor,
    is_regulator,
    require_auditor,
    require_regulator,
    visible_or_404,
)
from govflow.auditing.lifecycle import (
    AUDITOR,
    LAB,
    REGULATOR,
    RISK_ACCEPTING_ROLES,
    parties_for,
)
from govflow.auditing.models import Assignment, Certificate, Finding, FindingAttachment
from govflow.auditing.selectors import (
    assignments_visible_to,
    attachments_visible_to,
    certificates_visible_to,
    findings_visible_to,
)
from govflow.core.errors import PermissionDenied
from govflow.releases.access import access_release
from govflow.releases.models import Release

# Kept under their old names: the auditing API and the console call them.
access_regulator = require_regulator
access_auditor = require_auditor


def access_certificate(user, pk: int, *, act: bool = False) -> Certificate:
    certificate = visible_or_404(certificates_visible_to(user), pk)
    if act:
        access_regulator(user)
    return certificate


def access_assignment(user, pk: int, *, act: bool = False) -> Assignment:
    assignment = visible_or_404(assignments_visible_to(user), pk)
    if act:
        # The lab sees who audits it, but cannot remove them: only the regulator can.
        access_regulator(user)
    return assignment


def access_assign(user, release_id: int) -> Release:
    release = access_release(user, release_id)
    access_regulator(user)
    return release


def access_engagement(user, release_id: int) -> None:
    """Only auditors act on an engagement: anyone else gets 404 if they cannot see the
    release, 403 if they can. An auditor firm's members all hold the auditor role
    (ROLES_BY_KIND), so the firm is enough. For an auditor, the service itself looks up
    the engagement inside its transaction (`standing.engagement_in_force`), and answers
    404 when they were never assigned to the release, as `releases_visible_to` would."""
    if not is_auditor(user):
        access_release(user, release_id)
        raise PermissionDenied("this is for auditors", detail={"rule": "role"})


def access_finding(user, pk: int) -> Finding:
    return visible_or_404(findings_visible_to(user), pk)


def access_attachment(user, pk: int) -> FindingAttachment:
    return visible_or_404(attachments_visible_to(user), pk)


def party_of(user, finding: Finding) -> str | None:
    if is_regulator(user):
        return REGULATOR
    if finding.auditor_id == user.pk:
        return AUDITOR
    if has_lab_role(user, finding.release.organization_id, LAB_STAFF):
        return LAB
    return None


def access_finding_action(user, finding: Finding, action: str) -> str:
    """The party ``user`` acts as on ``finding`` for ``action``, or 403."""
    party = party_of(user, finding)
    allowed = parties_for(action)
    names = {LAB: "the lab", AUDITOR: "the auditor who filed it", REGULATOR: "a regulator"}
    if party not in allowed:
        raise PermissionDenied(
            f"'{action}' on a finding is for " + " or ".join(names[p] for p in sorted(allowed)),
            detail={"rule": "party"},
        )
    if action == "accept_risk" and not holds_any_role(user, RISK_ACCEPTING_ROLES):
        raise PermissionDenied(
            "accepting a risk on the lab's behalf needs the role release_manager or "
            "safety_officer", detail={"rule": "role"},
        )
    return party
