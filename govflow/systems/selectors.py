"""Reads of systems, scoped to what the acting user may see."""

from __future__ import annotations

from govflow.accounts.models import OrganizationKind
from govflow.accounts.selectors import user_organization
from govflow.systems.models import AISystem, SystemVersion


def systems_visible_to(user):
    org = user_organization(user)
    if org is None:
        return AISystem.objects.none()
    qs = AISystem.objects.select_related("organization")
    if org.kind == OrganizationKind.REGULATOR:
        return qs
    return qs.filter(organization=org)


def system_versions_visible_to(user):
    return SystemVersion.objects.filter(system__in=systems_visible_to(user)).select_related(
        "system"
    )
