"""Reads of releases, scoped to what the acting user's organization may see."""

from __future__ import annotations

from govflow.accounts.models import OrganizationKind
from govflow.accounts.selectors import user_organization
from govflow.releases.models import EvidenceDocument, Release, StageTransition


def releases_visible_to(user):
    """Labs see their own releases, regulators all, auditors those they hold access to
    right now (an engagement in force under a valid certificate); anyone else none."""
    org = user_organization(user)
    qs = Release.objects.select_related("organization", "system_version__system", "policy")
    if org is None:
        return qs.none()
    if org.kind == OrganizationKind.REGULATOR:
        return qs
    if org.kind == OrganizationKind.LAB:
        return qs.filter(organization=org)
    if org.kind == OrganizationKind.AUDITOR:
        # Imported here: auditing's models refer to releases, not the other way round.
        from govflow.auditing.selectors import releases_in_force_for

        return qs.filter(pk__in=releases_in_force_for(user))
    return qs.none()


def releases_filtered(user, *, stage: str | None = None, status: str | None = None,
                      lab: str | None = None):
    """The releases you may see, narrowed by the filters the API and the console share."""
    qs = releases_visible_to(user)
    if stage:
        qs = qs.filter(stage=stage)
    if status:
        qs = qs.filter(status=status)
    if lab:
        qs = qs.filter(organization__slug=lab)
    return qs.order_by("-opened_at", "-id")


def transitions_visible_to(user):
    return StageTransition.objects.filter(release__in=releases_visible_to(user)).select_related(
        "actor"
    )


def evidence_visible_to(user):
    return EvidenceDocument.objects.filter(release__in=releases_visible_to(user))
