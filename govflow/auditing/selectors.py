"""Reads of auditing rows, scoped to what the acting user may see.

- regulators see everything;
- a lab sees the assignments and findings of its own releases (who audits it, what was
  found) but not certificates or conflict declarations;
- an auditor sees their organization's certificates and declarations, and — on the
  releases they hold access to right now (`releases_in_force_for`) — their
  organization's assignments and findings; another auditor firm's work on the same
  release stays out of sight, and so does everything of a release once the engagement
  ended or the firm's certificate was suspended, revoked or lapsed.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from govflow.accounts.models import OrganizationKind
from govflow.accounts.selectors import user_organization
from govflow.auditing.models import (
    CLOSED_STATUSES,
    AccessGrant,
    Assignment,
    Certificate,
    CertificateStatus,
    ConflictOfInterest,
    Finding,
    FindingAttachment,
    FindingStatement,
    FindingStatus,
)
from govflow.auditing.predicates import severity_rank
from govflow.releases.models import StageTransition


def current_stage_entry(release) -> StageTransition:
    """The transition that brought the release into its current stage: the audit round.
    Latest by id, since every transition sets the stage under the release's row lock."""
    return StageTransition.objects.filter(release=release).order_by("-id").first()


def releases_in_force_for(user):
    """Ids of the releases the auditor ``user`` may see right now: an open assignment of
    theirs, made to their firm, whose access grant is in force and whose certificate is
    active and unexpired (`AccessGrant.objects.in_force`). Being assigned once is not
    enough: the regulator ends engagements and suspends certificates precisely to cut
    access off, so the moment either happens every read of the release is a 404."""
    org = user_organization(user)
    if org is None:
        return AccessGrant.objects.none().values("release_id")
    return (AccessGrant.objects.in_force(timezone.now())
            .filter(grantee=user, assignment__auditor=user, assignment__ended_at__isnull=True,
                    assignment__auditor_organization=org)
            .values("release_id"))


def _kind(user) -> tuple[object | None, str | None]:
    org = user_organization(user)
    return org, (org.kind if org is not None else None)


def certificates_visible_to(user) -> QuerySet[Certificate]:
    org, kind = _kind(user)
    qs = Certificate.objects.select_related("auditor", "issued_by", "key")
    if kind == OrganizationKind.REGULATOR:
        return qs
    if kind == OrganizationKind.AUDITOR:
        return qs.filter(auditor=org)
    return qs.none()


def conflicts_visible_to(user) -> QuerySet[ConflictOfInterest]:
    org, kind = _kind(user)
    qs = ConflictOfInterest.objects.select_related("auditor", "lab", "declared_by")
    if kind == OrganizationKind.REGULATOR:
        return qs
    if kind == OrganizationKind.AUDITOR:
        return qs.filter(auditor=org)
    return qs.none()


def _scoped(qs: QuerySet, user, *, auditor_org_field: str) -> QuerySet:
    org, kind = _kind(user)
    if kind == OrganizationKind.REGULATOR:
        return qs
    if kind == OrganizationKind.LAB:
        return qs.filter(release__organization=org)
    if kind == OrganizationKind.AUDITOR:
        return qs.filter(release_id__in=releases_in_force_for(user), **{auditor_org_field: org})
    return qs.none()


def assignments_visible_to(user) -> QuerySet[Assignment]:
    qs = Assignment.objects.select_related(
        "auditor", "auditor_organization", "certificate", "grant", "conclusion", "release"
    )
    return _scoped(qs, user, auditor_org_field="auditor_organization")


def with_state(qs: QuerySet[Finding]) -> QuerySet[Finding]:
    """Annotate each finding with its current status and severity: those its latest
    appended statement left behind, or as filed."""
    latest = FindingStatement.objects.filter(finding=OuterRef("pk")).order_by("-id")
    return qs.annotate(
        current_status=Coalesce(Subquery(latest.values("status_to")[:1]),
                                Value(FindingStatus.OPEN.value)),
        current_severity=Coalesce(Subquery(latest.values("severity_after")[:1]),
                                  F("severity")),
    )


def findings_visible_to(user) -> QuerySet[Finding]:
    qs = with_state(Finding.objects.select_related("auditor", "auditor_organization", "key",
                                                   "release"))
    return _scoped(qs, user, auditor_org_field="auditor_organization")


def attachments_visible_to(user) -> QuerySet[FindingAttachment]:
    """Regulators: all; auditors: their organization's uploads on releases they audit;
    labs: what a finding (or a statement on one) of their release refers to."""
    org, kind = _kind(user)
    qs = FindingAttachment.objects.all()
    if kind == OrganizationKind.REGULATOR:
        return qs
    if kind == OrganizationKind.AUDITOR:
        return qs.filter(release_id__in=releases_in_force_for(user),
                         uploaded_by__memberships__organization=org).distinct()
    if kind == OrganizationKind.LAB:
        return qs.filter(Q(findings__isnull=False) | Q(statements__isnull=False),
                         release__organization=org).distinct()
    return qs.none()


def unclosed_findings(release, *, at_or_above: str = "info") -> list[Finding]:
    """The release's findings that are neither resolved nor risk-accepted, at or above a
    severity, oldest first."""
    threshold = severity_rank(at_or_above)
    rows = with_state(Finding.objects.filter(release=release)).order_by("id")
    return [f for f in rows if f.current_status not in CLOSED_STATUSES
            and severity_rank(f.current_severity) >= threshold]


def covering_certificate(organization, *, risk_areas, access_level: str | None,
                         now: datetime, until: datetime) -> Certificate | None:
    """The organization's active certificate that covers the risk areas (and access level)
    now and until ``until``; the longest-lived if several do."""
    candidates = Certificate.objects.filter(
        auditor=organization, status=CertificateStatus.ACTIVE, valid_from__lte=now,
        valid_until__gte=until,
    ).order_by("-valid_until", "-id")
    return next((c for c in candidates if c.covers(risk_areas, access_level)), None)


def conflicts_between(auditor_org, lab, *, start: datetime, end: datetime):
    """Declared conflicts of the auditor firm with the lab that overlap [start, end]."""
    return ConflictOfInterest.objects.filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=start.date()),
        auditor=auditor_org, lab=lab, starts_on__lte=end.date(),
    ).order_by("id")


def consecutive_engagements(auditor_org, release) -> list[int]:
    """The lab's most recent audited releases (other than ``release``), newest first, for
    as long as ``auditor_org`` audited each of them: its unbroken streak with the lab."""
    audited = (
        Assignment.objects.filter(release__organization_id=release.organization_id)
        .exclude(release=release)
        .values_list("release_id", "auditor_organization_id")
        .order_by("-release_id")
    )
    by_release: dict[int, set[int]] = {}
    for release_id, org_id in audited:
        by_release.setdefault(release_id, set()).add(org_id)
    streak = []
    for release_id in sorted(by_release, reverse=True):
        if auditor_org.pk not in by_release[release_id]:
            break
        streak.append(release_id)
    return streak
