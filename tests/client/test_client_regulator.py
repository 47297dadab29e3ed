"""The client's commands for the regulator's newly signed acts, against the real API
in-process: each statement is built and signed here and lands in the log with its
envelope."""

from __future__ import annotations

import pytest

from govflow.audit.models import AuditEvent
from govflow.client import regulator as client
from govflow.monitoring.services import incident_report
from tests.keys.test_signed_acts import w  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def _logged(event_type: str) -> dict:
    return AuditEvent.objects.filter(event_type=event_type).latest("id").payload


def test_suspend_and_reinstate_a_certificate(w):  # noqa: F811
    suspended = client.certificate_status(w.rita.api, w.rita.key, certificate=w.certificate.pk,
                                          action="suspend", reason="inquiry")
    reinstated = client.certificate_status(w.rita.api, w.rita.key,
                                           certificate=w.certificate.pk, action="reinstate",
                                           reason="cleared")

    assert (suspended["status"], reinstated["status"]) == ("suspended", "active")
    assert _logged("certificate.suspended")["envelope"]["signatures"]


def test_end_an_assignment(w):  # noqa: F811
    row = client.assignment_end(w.rita.api, w.rita.key, release=w.release.pk,
                                assignment=w.assignment.pk, reason="conflict discovered")

    assert row["ended_at"] is not None
    assert _logged("assignment.ended")["note"] == "conflict discovered"


def test_file_a_critical_incident_and_resolve_another(w):  # noqa: F811
    filed = client.incident_file(w.erin.api, w.erin.key, release=w.release.pk,
                                 severity="critical", category="misuse",
                                 description="customers use it to write malware")
    signed = _logged("incident.reported")
    other = incident_report(release_id=w.release.pk, severity="low", category="other",
                            description="odd", evidence_digests=[], actor=w.manager.user)
    resolved = client.incident_resolve(w.rita.api, w.rita.key, incident=other.pk,
                                       resolution="explained")

    assert filed["severity"] == "critical"
    assert signed["key_id"] == w.erin.user.signing_keys.get().key_id
    assert filed["response"]["paused"] is True  # pause_at: critical, now a signed act
    assert resolved["status"] == "resolved"
    assert _logged("incident.resolved")["envelope"]["payload"]


def test_order_a_cohort_snapshot(w):  # noqa: F811
    from govflow.rollout.services import cohort_admit
    from tests.rollout.support import customer

    customer(w.lab, w.manager.user, "cust-1")
    cohort_admit(release_id=w.release.pk, stage="limited_rollout", external_ids=["cust-1"],
                 actor=w.manager.user)
    client.snapshot_order(w.rita.api, w.rita.key, release=w.release.pk, stage="limited_rollout")

    assert _logged("cohort.snapshot_published")["envelope"]["payload"]
