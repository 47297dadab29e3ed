"""Reads of monitoring, scoped to the releases the acting user may see: a lab its own, an
auditor those it is assigned to, a regulator every one (incidents at once, as filed)."""

from __future__ import annotations

from django.db.models import QuerySet

from govflow.accounts.selectors import user_organization
from govflow.monitoring.models import (
    Incident,
    MonitoringSource,
    Notification,
    Reevaluation,
    ReportingClock,
)
from govflow.releases.selectors import releases_visible_to


def sources_visible_to(user) -> QuerySet[MonitoringSource]:
    return MonitoringSource.objects.filter(release__in=releases_visible_to(user))


def incidents_visible_to(user) -> QuerySet[Incident]:
    return Incident.objects.filter(release__in=releases_visible_to(user)).select_related(
        "reported_by", "resolved_by", "release"
    )


def clocks_visible_to(user) -> QuerySet[ReportingClock]:
    return ReportingClock.objects.filter(incident__in=incidents_visible_to(user))


def reevaluations_visible_to(user) -> QuerySet[Reevaluation]:
    return Reevaluation.objects.filter(release__in=releases_visible_to(user))


def notifications_for(user) -> QuerySet[Notification]:
    """An organization's own notifications."""
    org = user_organization(user)
    if org is None:
        return Notification.objects.none()
    return Notification.objects.filter(organization=org)
