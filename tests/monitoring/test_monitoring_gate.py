"""Gate kind `monitoring`: a live monitoring source and no open incident at or above the
policy's severity, to enter general availability."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from govflow.monitoring.models import MonitoringSource
from govflow.monitoring.services import (
    incident_report,
    incident_resolve,
    source_heartbeat,
    source_register,
)
from govflow.releases.services import release_gate_report
from tests.monitoring.support import rolled_out


def _gate(world) -> dict:
    report = release_gate_report(release=world.release, target=None, actor=world.manager.user)
    assert report["target"] == "general_availability"
    return next(g for g in report["gates"] if g["kind"] == "monitoring")


def test_no_source_no_wider_release(world):
    rolled_out(world)
    gate = _gate(world)
    assert gate["met"] is False
    assert "0 live monitoring source(s), 1 needed" in gate["reason"]


def test_a_source_with_a_recent_heartbeat_and_nothing_open_meets_it(world):
    rolled_out(world)
    source = source_register(release_id=world.release.pk, name="abuse", kind="classifier",
                             actor=world.manager.user)
    source_heartbeat(source_id=source.pk)
    gate = _gate(world)
    assert gate["met"] is True
    assert gate["evidence"]["live_sources"] == [source.pk]


def test_a_silent_source_does_not_count(world):
    rolled_out(world)
    source = source_register(release_id=world.release.pk, name="abuse", kind="classifier",
                             actor=world.manager.user)
    MonitoringSource.objects.filter(pk=source.pk).update(
        last_heartbeat_at=timezone.now() - timedelta(minutes=16))
    gate = _gate(world)
    assert gate["met"] is False
    assert "silent: abuse" in gate["reason"]


def test_an_open_high_incident_blocks_until_resolved(world):
    rolled_out(world)
    source = source_register(release_id=world.release.pk, name="abuse", kind="classifier",
                             actor=world.manager.user)
    source_heartbeat(source_id=source.pk)
    incident = incident_report(release_id=world.release.pk, severity="high", category="misuse",
                               description="x", evidence_digests=[], actor=world.manager.user)
    gate = _gate(world)
    assert gate["met"] is False
    assert gate["evidence"]["open_incidents"] == [
        {"id": incident.pk, "severity": "high", "category": "misuse"}]
    incident_resolve(incident_id=incident.pk, resolution="account closed",
                     actor=world.manager.user)
    assert _gate(world)["met"] is True


def test_heartbeats_over_the_api_and_other_labs_get_404(world):
    source = source_register(release_id=world.release.pk, name="abuse", kind="classifier",
                             actor=world.manager.user)
    lab = APIClient()
    lab.credentials(HTTP_AUTHORIZATION=f"Bearer {world.signer.token}")
    beat = lab.post(f"/api/monitoring-sources/{source.pk}/heartbeat")
    assert beat.status_code == 200
    assert beat.json()["last_heartbeat_at"] is not None
    outsider = APIClient()
    outsider.credentials(HTTP_AUTHORIZATION=f"Bearer {world.outsider.token}")
    assert outsider.post(f"/api/monitoring-sources/{source.pk}/heartbeat").status_code == 404
    assert outsider.get(f"/api/releases/{world.release.pk}/monitoring").status_code == 404
    assert outsider.post(f"/api/releases/{world.release.pk}/monitoring-sources",
                         {"name": "x", "kind": "classifier"}, format="json").status_code == 404
