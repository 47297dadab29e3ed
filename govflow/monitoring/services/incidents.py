"""Reporting incidents, the policy's response to them, resolving them, filing reports.

The response runs inside the transaction of the report, not in a task: the incident, its
reporting clock, the regulator's notification and — for an incident at or above the
policy's `pause_at` — the pause of the release commit together. The pause goes through
`release_set_status`, which writes its own `release.paused` event and, right after the
commit and still inside this request, tells the access cache (settings.
GOVFLOW_RELEASE_CHANGE_HOOKS), so the serving gateway is refused from the next check on.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from govflow.accounts.machine import machine_fields
from govflow.accounts.models import ApiToken, TokenPurpose
from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.core.errors import Conflict, NotFound, field_error
from govflow.core.times import rfc3339_or_none
from govflow.keys.acts import release_subject, signed_fields, subject_check
from govflow.keys.verification import Verified
from govflow.monitoring.models import (
    ClockKind,
    Incident,
    IncidentReport,
    IncidentStatus,
    MonitoringSource,
)
from govflow.monitoring.policy import at_or_above, incident_rules
from govflow.monitoring.services.clocks import (
    clock_json,
    initial_due,
    next_clock,
    running_clock,
    start_clock,
)
from govflow.monitoring.services.notifications import notify, regulators
from govflow.releases.locks import lock_release
from govflow.releases.models import ReleaseStatus
from govflow.releases.services import release_set_status

# A reporter's clock may run a little ahead of ours; more than this is a mistake.
_FUTURE_SKEW = timedelta(minutes=5)
_MAX_BACKDATE = timedelta(days=365)


@transaction.atomic
def incident_report(*, release_id: int, severity: str, category: str, description: str,
                    evidence_digests: list[str], actor, detected_at: datetime | None = None,
                    source_id: int | None = None, signed: Verified | None = None,
                    machine_token: ApiToken | None = None) -> Incident:
    """``signed``: the reporter's verified statement (a person's incident is a signed act,
    `govflow.monitoring.acts`); its signature rides in the event. ``machine_token``: the
    monitoring source's or gateway's token it came with instead; the event names it."""
    release = lock_release(release_id)
    now = timezone.now()
    if machine_token is not None:
        _machine_token_recheck(machine_token, release_id=release.pk, now=now)
    detected_at = detected_at or now
    if detected_at > now + _FUTURE_SKEW:
        raise field_error("detected_at", "must not be after now",
                          summary="detected_at is in the future")
    if detected_at < now - _MAX_BACKDATE:
        # The probe sent year 1. Every reporting clock is long overdue after a year, so an
        # older awareness is a typo, and a far-past date breaks the clocks' arithmetic.
        raise field_error("detected_at",
                          f"must be within {_MAX_BACKDATE.days} days before now",
                          summary="detected_at is too far in the past")
    source = None
    if source_id is not None:
        source = MonitoringSource.objects.filter(pk=source_id, release=release).first()
        if source is None:
            raise field_error("source", f"unknown source {source_id}",
                              summary="no such monitoring source on this release")
    rules = incident_rules(release)
    pause = (at_or_above(severity, rules.pause_at) and release.status == ReleaseStatus.ACTIVE)
    notify_regulator = at_or_above(severity, rules.notify_regulator_at)
    incident = Incident.objects.create(
        release=release, source=source, severity=severity, category=category,
        description=description, evidence_digests=list(evidence_digests),
        detected_at=detected_at, reported_at=now, reported_by=actor,
    )
    clock = None
    if at_or_above(severity, rules.reporting.applies_at):
        clock = start_clock(incident, ClockKind.INITIAL, started_at=detected_at,
                            due_at=initial_due(rules.reporting, category, detected_at))
    incident.response = {"paused": pause, "regulator_notified": notify_regulator,
                         "clock": clock_json(clock)}
    incident.save(update_fields=["response"])
    body = {"incident": incident.pk, "release": release.pk, "severity": severity,
            "category": category, "description": description,
            "evidence_digests": list(evidence_digests), "detected_at": rfc3339_or_none(detected_at),
            "source": source.pk if source else None, "response": incident.response}
    audit_append(event_type=EventType.INCIDENT_REPORTED, actor=actor, subject=incident,
                 organization_id=release.organization_id, release_id=release.pk,
                 payload={**body, **signed_fields(signed), **machine_fields(machine_token)})
    if notify_regulator:
        notify(organizations=regulators(), release=release, kind="incident", body=body,
               subject=f"{severity.capitalize()} {category} incident #{incident.pk} on "
                       f"release {release.pk} ({release.title})")
    if pause:
        release_set_status(
            release_id=release.pk, move=EventType.RELEASE_PAUSED, actor=actor,
            reason=f"policy response to incident #{incident.pk}: {severity} {category}",
        )
        notify(organizations=[release.organization], release=release, kind="release_paused",
               body=body, subject=f"Release {release.pk} paused: {severity} {category} "
                                  f"incident #{incident.pk}")
    return incident


def _machine_token_recheck(token: ApiToken, *, release_id: int, now: datetime) -> None:
    # The token row is locked (token_revoke locks it too): a revocation committed since
    # the request was authenticated wins, and one running now waits for this report.
    usable = ApiToken.objects.select_for_update().filter(
        pk=token.pk, revoked_at__isnull=True, expires_at__gt=now,
        purpose=TokenPurpose.INCIDENT_FILE, release_id=release_id).exists()
    if not usable:
        raise Conflict(f"machine token {token.prefix}… was revoked or expired just now",
                       detail={"rule": "token_revoked"})


def incident_file_signed(*, verified: Verified, actor, now: datetime, target=None,
                         context=None) -> Incident:
    """A signed incident (inside the kernel's recording transaction)."""
    claim = verified.claim
    release = lock_release(claim.release)
    subject_check(verified, release_subject(release), release.pk)
    return incident_report(
        release_id=release.pk, severity=claim.severity, category=claim.category,
        description=claim.description, evidence_digests=claim.evidence_digests,
        detected_at=claim.detected_at, actor=actor, signed=verified)


def incident_resolve_signed(*, verified: Verified, actor, now: datetime, target: int,
                            context=None) -> Incident:
    """A signed resolution of incident ``target`` (inside the kernel's transaction)."""
    claim = verified.claim
    if claim.incident != target:
        raise field_error("envelope.payload: predicate.incident", f"must be {target}",
                          summary=f"the statement resolves incident {claim.incident}, not "
                          f"{target}")
    incident = _lock_incident(target)
    if incident.release_id != claim.release:
        raise field_error("envelope.payload: predicate.release", f"must be {incident.release_id}",
                          summary=f"incident {target} is on release {incident.release_id}")
    subject_check(verified, release_subject(incident.release), incident.release_id)
    return incident_resolve(incident_id=target, resolution=claim.resolution, actor=actor,
                            signed=verified)


def _lock_incident(incident_id: int) -> Incident:
    found = Incident.objects.filter(pk=incident_id).values_list("release_id", flat=True).first()
    if found is None:
        raise NotFound(f"incident {incident_id} does not exist")
    lock_release(found)  # the release first, as every service locks
    return Incident.objects.select_for_update(of=("self",)).select_related(
        "release__organization").get(pk=incident_id)


@transaction.atomic
def incident_resolve(*, incident_id: int, resolution: str, actor,
                     signed: Verified | None = None) -> Incident:
    incident = _lock_incident(incident_id)
    if incident.status != IncidentStatus.OPEN:
        raise Conflict(f"incident {incident.pk} is already resolved")
    if not resolution.strip():
        raise field_error("resolution", "may not be blank",
                          summary="a resolution must say what was done")
    now = timezone.now()
    incident.status, incident.resolved_at = IncidentStatus.RESOLVED, now
    incident.resolved_by, incident.resolution = actor, resolution
    incident.save(update_fields=["status", "resolved_at", "resolved_by", "resolution"])
    clock = running_clock(incident, lock=True)
    final = None
    # A follow-up owed on an open incident becomes the final report owed on a resolved
    # one; an initial report not yet filed is still owed as it was.
    if clock is not None and clock.kind == ClockKind.FOLLOW_UP:
        clock.superseded_at = now
        clock.save(update_fields=["superseded_at"])
        kind, due = next_clock(incident, after=now)
        final = start_clock(incident, kind, started_at=now, due_at=due)
    release = incident.release
    audit_append(event_type=EventType.INCIDENT_RESOLVED, actor=actor, subject=incident,
                 organization_id=release.organization_id, release_id=release.pk,
                 payload={"incident": incident.pk, "resolution": resolution,
                          "clock": clock_json(final or clock), **signed_fields(signed)})
    return incident


@transaction.atomic
def incident_report_file(*, incident_id: int, kind: str, summary: str, document_digest: str,
                         actor) -> IncidentReport:
    """File a report to the regulator; it stops the clock it answers and starts the next."""
    incident = _lock_incident(incident_id)
    clock = running_clock(incident, lock=True)
    if clock is not None and kind != ClockKind.FINAL and kind != clock.kind:
        raise Conflict(f"the report owed on incident {incident.pk} is a {clock.kind} report, "
                       f"due {rfc3339_or_none(clock.due_at)}", detail={"rule": "wrong_kind"})
    if kind == ClockKind.FOLLOW_UP and incident.status == IncidentStatus.RESOLVED:
        raise Conflict("the incident is resolved: file the final report",
                       detail={"rule": "wrong_kind"})
    now = timezone.now()
    report = IncidentReport.objects.create(incident=incident, kind=kind, summary=summary,
                                           document_digest=document_digest, filed_at=now,
                                           filed_by=actor)
    following = None
    if clock is not None:
        clock.satisfied_at, clock.satisfied_by = now, report
        clock.save(update_fields=["satisfied_at", "satisfied_by"])
        if kind != ClockKind.FINAL:
            next_kind, due = next_clock(incident, after=now)
            following = start_clock(incident, next_kind, started_at=now, due_at=due)
    release = incident.release
    body = {"incident": incident.pk, "report": report.pk, "kind": kind,
            "document_digest": document_digest, "summary": summary,
            "answered": clock_json(clock), "late": bool(clock and now > clock.due_at),
            "next": clock_json(following)}
    audit_append(event_type=EventType.INCIDENT_REPORT_FILED, actor=actor, subject=report,
                 organization_id=release.organization_id, release_id=release.pk, payload=body)
    notify(organizations=regulators(), release=release, kind="incident_report", body=body,
           subject=f"{kind.replace('_', '-').capitalize()} report on incident #{incident.pk}")
    return report
