"""The demo's audit: Independent Audits certified by rita's signed statement, erin and
frank assigned to the release in audit, erin's medium finding — built once."""

from __future__ import annotations

import pytest

from govflow.audit.models import AuditEvent
from govflow.auditing.models import Assignment, Certificate, Finding
from govflow.demo.build import demo_token

pytestmark = pytest.mark.django_db


def test_the_demo_audit_is_built_once(demo):
    first = (Certificate.objects.count(), Assignment.objects.count(), Finding.objects.count(),
             AuditEvent.objects.count())

    demo.again()

    assert (Certificate.objects.count(), Assignment.objects.count(), Finding.objects.count(),
            AuditEvent.objects.count()) == first
    certificate = Certificate.objects.get()
    assert (certificate.auditor.slug, certificate.issued_by.username) == (
        "independent-audits", "rita")
    assert sorted(Assignment.objects.values_list("auditor__username", flat=True)) == [
        "erin", "frank"]
    finding = Finding.objects.get()
    assert (finding.auditor.username, finding.severity) == ("erin", "medium")


def test_demo_people_see_the_audit_as_their_roles_allow(demo, api):
    finding = Finding.objects.get()

    def get(username, path):
        client = api()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {demo_token(username)}")
        return client.get(path)

    for username in ("rita", "alice", "erin", "frank"):
        assert get(username, f"/api/findings/{finding.pk}").status_code == 200, username
    assert get("oscar", f"/api/findings/{finding.pk}").status_code == 404
    assert get("frank", f"/api/releases/{finding.release_id}").status_code == 200
