"""Incidents and the policy's response: a critical one pauses the release at once (the
access check refuses), notifies the regulator and starts the reporting clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from govflow.monitoring.models import Incident, Notification, ReportingClock
from govflow.monitoring.services import incident_report
from govflow.releases.models import ReleaseStatus
from tests import factories
from tests.monitoring.support import rolled_out
from tests.rollout.support import digest, events_since, last_event_id


def _client(person) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {person.token}")
    return client


def _monitor(world) -> APIClient:
    """A monitoring source of the release, filing with its machine token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer " + factories.machine_token_for(
        world.manager.user, world.release))
    return client


def _report(world, severity="critical", category="deceptive_behaviour", **extra):
    return incident_report(release_id=world.release.pk, severity=severity, category=category,
                           description="The agent hid a trade from its manager.",
                           evidence_digests=[digest(b"transcript")], actor=world.manager.user,
                           **extra)


def test_a_critical_incident_pauses_notifies_and_starts_the_clock(world):
    rolled_out(world)
    mark = last_event_id()
    incident = _report(world)
    world.release.refresh_from_db()
    # the incident, then the pause it caused: two changes, two events
    assert events_since(mark) == ["incident.reported", "release.paused"]
    assert world.release.status == ReleaseStatus.PAUSED
    assert incident.response["paused"] is True
    assert incident.response["regulator_notified"] is True
    regulator_org = world.regulator.user.memberships.first().organization
    assert Notification.objects.filter(organization=regulator_org, kind="incident").count() == 1
    clock = ReportingClock.objects.get(incident=incident)
    assert clock.kind == "initial"
    assert clock.due_at == incident.detected_at + timedelta(days=15)


def test_a_high_incident_notifies_and_starts_a_clock_but_does_not_pause(world):
    rolled_out(world)
    mark = last_event_id()
    incident = _report(world, severity="high", category="misuse")
    world.release.refresh_from_db()
    assert events_since(mark) == ["incident.reported"]
    assert world.release.status == ReleaseStatus.ACTIVE
    assert incident.response == {"paused": False, "regulator_notified": True,
                                 "clock": incident.response["clock"]}
    assert incident.response["clock"]["kind"] == "initial"


def test_a_medium_incident_is_recorded_and_nothing_more(world):
    incident = _report(world, severity="medium", category="misuse")
    assert incident.response == {"paused": False, "regulator_notified": False, "clock": None}
    assert Notification.objects.count() == 0


@pytest.mark.parametrize(("category", "days"), [
    ("critical_infrastructure", 2), ("weight_exfiltration", 5), ("security_incident", 5),
    ("loss_of_life", 10), ("serious_harm", 15), ("deceptive_behaviour", 15), ("misuse", 15),
])
def test_initial_report_deadlines_follow_the_category(world, category, days):
    # given an incident the lab became aware of three hours ago
    aware = timezone.now() - timedelta(hours=3)
    incident = _report(world, severity="high", category=category, detected_at=aware)
    # then the clock runs from awareness, for the category's days
    clock = ReportingClock.objects.get(incident=incident)
    assert clock.started_at == aware
    assert clock.due_at == aware + timedelta(days=days)


def test_the_policy_can_shorten_a_deadline(world):
    from tests.rollout.support import ROLLOUT_POLICY, release_at

    strict = ROLLOUT_POLICY.replace("name: rollout_test", "name: strict").replace(
        "  notify_regulator_at: high\n",
        "  notify_regulator_at: high\n  reporting:\n    initial_days: {misuse: 3}\n")
    release = release_at(world.lab, world.manager.user, "internal_evals", policy_text=strict)
    incident = incident_report(release_id=release.pk, severity="critical", category="misuse",
                               description="x", evidence_digests=[], actor=world.manager.user)
    clock = ReportingClock.objects.get(incident=incident)
    assert clock.due_at - incident.detected_at == timedelta(days=3)


def test_the_regulator_sees_an_incident_the_moment_it_is_reported(world):
    rolled_out(world)
    created = _monitor(world).post("/api/incidents", {
        "release": world.release.pk, "severity": "high", "category": "security_incident",
        "description": "Unusual outbound traffic from the sandbox.",
        "evidence_digests": [digest(b"pcap")],
    }, format="json")
    assert created.status_code == 201
    seen = _client(world.regulator).get("/api/incidents").json()["results"]
    assert [i["id"] for i in seen] == [created.json()["id"]]
    notified = _client(world.regulator).get("/api/notifications").json()["results"]
    assert notified[0]["kind"] == "incident"


def test_another_lab_can_neither_see_nor_report_incidents_on_the_release(world):
    incident = _report(world, severity="low", category="other")
    outsider = _client(world.outsider)
    assert outsider.get(f"/api/incidents/{incident.pk}").status_code == 404
    assert outsider.get("/api/incidents").json()["results"] == []
    refused = outsider.post("/api/incidents", {
        "release": world.release.pk, "severity": "critical", "category": "misuse",
        "description": "x"}, format="json")
    assert refused.status_code == 404
    assert Incident.objects.count() == 1
    assert outsider.post(f"/api/incidents/{incident.pk}/resolve", {"resolution": "x"},
                         format="json").status_code == 404


def test_bad_incidents_are_400_with_their_fields(world):
    response = _client(world.manager).post("/api/incidents", {
        "release": world.release.pk, "severity": "apocalyptic", "category": "misuse",
        "description": "x", "evidence_digests": ["md5:abc"]}, format="json")
    assert response.status_code == 400
    paths = {f["path"] for f in response.json()["fields"]}
    assert "severity" in paths
    assert any(path.startswith("evidence_digests") for path in paths)
    future = _monitor(world).post("/api/incidents", {
        "release": world.release.pk, "severity": "low", "category": "misuse",
        "description": "x", "detected_at": (timezone.now() + timedelta(days=1)).isoformat()},
        format="json")
    assert future.status_code == 400
