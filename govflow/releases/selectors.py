"""Reads of releases, scoped to what the acting user's organization may see."""

from __future__ import annotations

from govflow.accounts.models import OrganizationKind
from govflow.accounts.selectors import user_organization
from govflow.releases.models import EvidenceDocument, Release, StageTransition


def releases_visible_to(user):
    """Labs see their own releases, regulators all; anyone else none."""
    org = user_organization(user)
    qs = Release.objects.select_related("organization", "system_version__system", "policy")
    if org is None:
        return qs.none()
    if org.kind == OrganizationKind.REGULATOR:
        return qs
    if org.kind == OrganizationKind.LAB:
        return qs.filter(organization=org)
    return qs.none()


def transitions_visible_to(user):
    return StageTransition.objects.filter(release__in=releases_visible_to(user)).select_related(
        "actor"
    )


def evidence_visible_to(user):
    return EvidenceDocument.objects.filter(release__in=releases_visible_to(user))
