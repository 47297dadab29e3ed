"""Authorisation for auditing: see the object first (else 404), then hold the role or be
the party an action belongs to (else 403)."""

from __future__ import annotations

from django.http import Http404

from govflow.accounts.models import ROLES_BY_KIND, OrganizationKind, Role
from govflow.accounts.selectors import user_organization, user_roles
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

LAB_ROLES = frozenset(ROLES_BY_KIND[OrganizationKind.LAB])


def _visible(qs, pk: int):
    row = qs.filter(pk=pk).first()
    if row is None:
        raise Http404
    return row


def access_regulator(user) -> None:
    if Role.REGULATOR not in user_roles(user):
        raise PermissionDenied("this is for regulators", detail={"rule": "role"})


def access_auditor(user) -> None:
    org = user_organization(user)
    if org is None or org.kind != OrganizationKind.AUDITOR or Role.AUDITOR not in user_roles(
        user
    ):
        raise PermissionDenied("this is for auditors", detail={"rule": "role"})


def access_certificate(user, pk: int, *, act: bool = False) -> Certificate:
    certificate = _visible(certificates_visible_to(user), pk)
    if act:
        access_regulator(user)
    return certificate


def access_assignment(user, pk: int, *, act: bool = False) -> Assignment:
    assignment = _visible(assignments_visible_to(user), pk)
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
    org = user_organization(user)
    if org is None or org.kind != OrganizationKind.AUDITOR:
        access_release(user, release_id)
        raise PermissionDenied("this is for auditors", detail={"rule": "role"})


def access_finding(user, pk: int) -> Finding:
    return _visible(findings_visible_to(user), pk)


def access_attachment(user, pk: int) -> FindingAttachment:
    return _visible(attachments_visible_to(user), pk)


def party_of(user, finding: Finding) -> str | None:
    roles = user_roles(user)
    if Role.REGULATOR in roles:
        return REGULATOR
    if finding.auditor_id == user.pk:
        return AUDITOR
    org = user_organization(user)
    if org is not None and org.pk == finding.release.organization_id and roles & LAB_ROLES:
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
    if action == "accept_risk" and not user_roles(user) & RISK_ACCEPTING_ROLES:
        raise PermissionDenied(
            "accepting a risk on the lab's behalf needs the role release_manager or "
            "safety_officer", detail={"rule": "role"},
        )
    return party
