"""Reads of the audit log, scoped to what the acting user may see."""

from __future__ import annotations

from django.db.models import Q

from govflow.accounts.models import OrganizationKind
from govflow.accounts.selectors import user_organization
from govflow.audit.models import AuditEvent


def events_visible_to(user):
    """Regulators see every event; a lab or auditor its own organization's events and
    the organization-less ones (policy registrations: public rules)."""
    org = user_organization(user)
    qs = AuditEvent.objects.select_related("leaf")
    if org is None:
        return qs.none()
    if org.kind == OrganizationKind.REGULATOR:
        return qs
    return qs.filter(Q(organization=org) | Q(organization__isnull=True))
