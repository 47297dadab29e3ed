"""Reporting clocks: the reports owed to the regulator about an incident, and when.

An incident at or above the policy's `reporting.applies_at` starts an *initial* clock
when it is reported, running from when the lab became aware of it (`detected_at`) for
the days its category is given. Filing the report stops the clock and starts the next:
a *follow-up* every `follow_up_days` while the incident is open, a *final* report within
`final_days_after_resolution` once it is resolved. Beat (`tick_clocks`) reminds the lab
`remind_days_before` the deadline and marks a clock overdue when it passes, notifying the
lab and the regulators; an overdue clock shows on the release until its report is filed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.core.times import rfc3339_or_none
from govflow.monitoring.models import ClockKind, Incident, ReportingClock
from govflow.monitoring.policy import ReportingRules, incident_rules
from govflow.monitoring.services.notifications import notify, regulators


def initial_due(rules: ReportingRules, category: str, detected_at: datetime) -> datetime:
    return detected_at + timedelta(days=rules.initial_days[category])


def start_clock(incident: Incident, kind: str, *, started_at: datetime,
                due_at: datetime) -> ReportingClock:
    return ReportingClock.objects.create(incident=incident, kind=kind, started_at=started_at,
                                         due_at=due_at)


def running_clock(incident: Incident, *, lock: bool = False) -> ReportingClock | None:
    qs = ReportingClock.objects.filter(incident=incident, satisfied_at__isnull=True,
                                       superseded_at__isnull=True)
    if lock:
        qs = qs.select_for_update()
    return qs.first()


def clock_json(clock: ReportingClock | None) -> dict | None:
    if clock is None:
        return None
    return {"clock": clock.pk, "kind": clock.kind, "due_at": rfc3339_or_none(clock.due_at)}


def next_clock(incident: Incident, *, after: datetime) -> tuple[str, datetime] | None:
    """What is owed next once a report is filed at ``after``."""
    rules = incident_rules(incident.release).reporting
    if incident.status == "resolved":
        return ClockKind.FINAL, incident.resolved_at + timedelta(
            days=rules.final_days_after_resolution)
    return ClockKind.FOLLOW_UP, after + timedelta(days=rules.follow_up_days)


@transaction.atomic
def clock_tick(*, clock_id: int, now: datetime | None = None) -> str | None:
    """Remind or mark overdue, once each (idempotent). Returns what it did."""
    now = now or timezone.now()
    clock = (ReportingClock.objects.select_for_update(of=("self",))
             .select_related("incident__release__organization").filter(pk=clock_id).first())
    if clock is None or not clock.running:
        return None
    incident = clock.incident
    release = incident.release
    rules = incident_rules(release).reporting
    body = {"incident": incident.pk, "release": release.pk, **clock_json(clock)}
    if clock.overdue_at is None and now > clock.due_at:
        clock.overdue_at = now
        clock.save(update_fields=["overdue_at"])
        audit_append(event_type=EventType.REPORTING_CLOCK_OVERDUE, actor=None, subject=clock,
                     organization_id=release.organization_id, release_id=release.pk,
                     payload=body)
        notify(organizations=[release.organization, *regulators()], release=release,
               kind="report_overdue", body=body,
               subject=f"Overdue: {clock.kind} report on incident #{incident.pk} "
                       f"({incident.category}) was due {rfc3339_or_none(clock.due_at)}")
        return "overdue"
    remind_from = clock.due_at - timedelta(days=rules.remind_days_before)
    if clock.reminded_at is None and clock.overdue_at is None and now >= remind_from:
        clock.reminded_at = now
        clock.save(update_fields=["reminded_at"])
        audit_append(event_type=EventType.REPORTING_CLOCK_REMINDED, actor=None, subject=clock,
                     organization_id=release.organization_id, release_id=release.pk,
                     payload=body)
        notify(organizations=[release.organization], release=release,
               kind="report_due", body=body,
               subject=f"Due {rfc3339_or_none(clock.due_at)}: {clock.kind} report on incident "
                       f"#{incident.pk} ({incident.category})")
        return "reminded"
    return None


def clocks_needing_attention() -> list[int]:
    """Ids of running clocks not yet overdue, soonest first: `clock_tick` decides."""
    return list(ReportingClock.objects.filter(
        satisfied_at__isnull=True, superseded_at__isnull=True, overdue_at__isnull=True,
    ).order_by("due_at").values_list("pk", flat=True)[:5000])
