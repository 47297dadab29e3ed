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


def witness_refusals_open() -> list[AuditEvent]:
    """The newest refusal of each witness that has cosigned nothing since: the log looks
    forked or rewritten to that witness right now. Organization-less events, so every
    signed-in user may see them (a fork concerns everyone who relies on the log)."""
    from govflow.audit.events import EventType
    from govflow.audit.models import Cosignature

    latest: dict[str, AuditEvent] = {}
    refusals = AuditEvent.objects.filter(event_type=EventType.WITNESS_REFUSED).order_by("-id")
    for event in refusals[:50]:
        latest.setdefault(event.payload.get("witness_key", ""), event)
    return [
        event for key, event in latest.items()
        if not Cosignature.objects.filter(witness_key=key,
                                          created_at__gt=event.created_at).exists()
    ]


def drift_now():
    """The newest reconciliation run if it found the tables disagreeing with the log, else
    None: regulators see it on every console page until a run finds none."""
    from govflow.audit.models import ReconcileRun

    latest = ReconcileRun.objects.order_by("-ran_at", "-id").first()
    return latest if latest is not None and latest.count else None


def sequencing_alarms_open():
    """Alarms that stop sequencing now (no quarantine yet): the log signs nothing new, which
    concerns everyone who relies on it, so every signed-in user is shown them."""
    from govflow.audit.models import SequencingAlarm

    return list(SequencingAlarm.objects.filter(quarantine__isnull=True).order_by("event_id"))
