"""Reporting clocks on beat: a reminder before the deadline, overdue after it (visible
on the release), and each report filed starting the next clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from govflow.core.errors import Conflict
from govflow.monitoring.models import Notification, ReportingClock
from govflow.monitoring.predicates import build_resolution
from govflow.monitoring.services import (
    clock_tick,
    incident_report,
    incident_report_file,
    incident_resolve,
)
from govflow.monitoring.tasks import tick
from tests.auditing.support import release_json
from tests.rollout.support import events_since, last_event_id


def _incident(world, category="weight_exfiltration"):
    return incident_report(release_id=world.release.pk, severity="high", category=category,
                           description="Weights copied to an unknown host.",
                           evidence_digests=[], actor=world.manager.user)


def _running(incident) -> ReportingClock:
    return ReportingClock.objects.get(incident=incident, satisfied_at__isnull=True,
                                      superseded_at__isnull=True)


def test_beat_reminds_a_day_before_and_marks_overdue_after_the_deadline(world):
    incident = _incident(world)  # 5 days
    clock = _running(incident)
    regulator_org = world.regulator.user.memberships.first().organization
    # nothing to do on day 1
    assert clock_tick(clock_id=clock.pk, now=clock.started_at + timedelta(days=1)) is None
    # a reminder to the lab on day 4, once
    mark = last_event_id()
    day4 = clock.due_at - timedelta(hours=12)
    assert clock_tick(clock_id=clock.pk, now=day4) == "reminded"
    assert clock_tick(clock_id=clock.pk, now=day4) is None
    assert events_since(mark) == ["reporting_clock.reminded"]
    assert Notification.objects.filter(kind="report_due", organization=world.lab).count() == 1
    # overdue after the deadline: the lab and the regulators are told, once
    late = clock.due_at + timedelta(minutes=1)
    assert clock_tick(clock_id=clock.pk, now=late) == "overdue"
    assert clock_tick(clock_id=clock.pk, now=late) is None
    assert events_since(mark) == ["reporting_clock.reminded", "reporting_clock.overdue"]
    assert Notification.objects.filter(kind="report_overdue",
                                       organization=regulator_org).count() == 1


def test_an_overdue_report_is_visible_on_the_release(world, monkeypatch):
    incident = _incident(world, category="critical_infrastructure")  # 2 days
    later = timezone.now() + timedelta(days=3)
    monkeypatch.setattr(timezone, "now", lambda: later)
    done = tick()
    assert done["overdue"] == 1
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.regulator.token}")
    summary = client.get(f"/api/releases/{world.release.pk}/monitoring").json()
    assert summary["overdue_reports"] == 1
    assert summary["running_clocks"][0]["overdue"] is True
    assert summary["running_clocks"][0]["incident"] == incident.pk
    detail = client.get(f"/api/incidents/{incident.pk}").json()
    assert detail["clocks"][0]["overdue_at"] is not None


def test_reports_stop_a_clock_and_start_the_next(world):
    incident = _incident(world)
    initial = _running(incident)
    # a follow-up cannot answer an initial report owed
    with pytest.raises(Conflict):
        incident_report_file(incident_id=incident.pk, kind="follow_up", summary="x",
                             document_digest="", actor=world.manager.user)
    mark = last_event_id()
    report = incident_report_file(incident_id=incident.pk, kind="initial", summary="what we know",
                                  document_digest="", actor=world.manager.user)
    assert events_since(mark) == ["incident.report_filed"]
    initial.refresh_from_db()
    assert initial.satisfied_by == report
    follow_up = _running(incident)
    assert follow_up.kind == "follow_up"
    assert follow_up.due_at - report.filed_at == timedelta(days=28)
    # resolving turns the follow-up owed into the final report owed, 60 days on
    resolved = incident_resolve(incident_id=incident.pk, resolution="host seized, keys rotated",
                                actor=world.safety.user)
    final = _running(incident)
    assert final.kind == "final"
    assert final.due_at - resolved.resolved_at == timedelta(days=60)
    incident_report_file(incident_id=incident.pk, kind="final", summary="closed",
                         document_digest="", actor=world.manager.user)
    assert not ReportingClock.objects.filter(incident=incident, satisfied_at__isnull=True,
                                             superseded_at__isnull=True).exists()


def test_only_the_lab_files_reports_and_resolving_is_for_stewards_or_the_regulator(world):
    incident = _incident(world)
    signer = APIClient()
    signer.credentials(HTTP_AUTHORIZATION=f"Bearer {world.signer.token}")
    assert signer.post(f"/api/incidents/{incident.pk}/resolve", {"resolution": "x"},
                       format="json").status_code == 403
    regulator = APIClient()
    regulator.credentials(HTTP_AUTHORIZATION=f"Bearer {world.regulator.token}")
    assert regulator.post(f"/api/incidents/{incident.pk}/reports",
                          {"kind": "initial", "summary": "x"}, format="json").status_code == 403
    resolution = build_resolution(release=release_json(world.release), incident=incident.pk,
                                  resolution="fixed")
    assert regulator.post(f"/api/incidents/{incident.pk}/resolve",
                          {"envelope": world.regulator.sign(resolution)},
                          format="json").status_code == 200
