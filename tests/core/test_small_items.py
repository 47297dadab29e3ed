"""The small findings of the edge probe (issue 15, point 7), one test each: the
whistleblower's time is kept to the day, display names refuse bidi controls,
`detected_at` is bounded (tests/monitoring/test_detected_at.py), and the documented
access-cache bound is the setting's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from govflow.accounts.services import organization_create
from govflow.audit.models import AuditEvent
from govflow.core.errors import ValidationFailed
from govflow.oversight.models import WhistleblowerReport
from govflow.oversight.whistleblower import report_message_add
from govflow.rollout.models import Customer
from tests import factories

pytestmark = pytest.mark.django_db
REPO = Path(__file__).resolve().parents[2]


def test_a_whistleblower_reports_audit_event_keeps_only_the_day():
    # given the regulator's channel
    factories.organization(kind="regulator")
    # when a report arrives through the public form
    response = Client().post("/whistleblow/", {"subject": "s", "body": "a hidden eval run",
                                                "concerning": "Lab"})
    assert response.status_code == 200
    # then its audit event is dated to the day, in the row and in the logged bytes
    event = AuditEvent.objects.get(event_type="whistleblower.report_received")
    today = timezone.now().date().isoformat()
    assert event.created_at.time().isoformat() == "00:00:00"
    assert f'"at":"{today}T00:00:00Z"' in event.canonical
    # and the reporter's follow-up too; the regulator's reply keeps its time
    report = WhistleblowerReport.objects.get()
    report_message_add(report_id=report.pk, body="one more thing")
    follow_up = AuditEvent.objects.filter(event_type="whistleblower.message_added").get()
    assert follow_up.created_at.time().isoformat() == "00:00:00"


@pytest.mark.parametrize("name", ["Ada\u202eevil", "\u2066Ada\u2069", "Ada\u200f", "A\u0000da"])
def test_a_customer_display_name_refuses_bidi_and_control_characters(api, release_manager,
                                                                      name):
    response = api(release_manager).post("/api/customers", {"external_id": "c-1",
                                                            "display_name": name},
                                         format="json")
    assert response.status_code == 400
    assert response.json()["fields"][0]["path"] == "display_name"
    assert not Customer.objects.exists()


def test_an_organization_name_refuses_bidi_overrides():
    with pytest.raises(ValidationFailed):
        organization_create(name="Frontier \u202eLab", slug="frontier", kind="lab")


def test_an_ordinary_name_in_any_script_is_accepted(api, release_manager):
    response = api(release_manager).post("/api/customers", {
        "external_id": "c-2", "display_name": "\u0639\u0644\u064a Ada \u00e9\u00e8"},
        format="json")
    assert response.status_code == 201


def test_the_documented_access_cache_bound_is_the_settings_default(settings):
    table = (REPO / "deploy" / "README.md").read_text()
    row = re.search(r"\| `GOVFLOW_ACCESS_CACHE_MAX_AGE` \|[^|]*\| (\d+) \|", table)
    assert row, "deploy/README.md documents GOVFLOW_ACCESS_CACHE_MAX_AGE"
    source = (REPO / "govflow" / "settings" / "core.py").read_text()
    default = re.search(r'env_int\("GOVFLOW_ACCESS_CACHE_MAX_AGE", (\d+)', source)
    assert int(row.group(1)) == int(default.group(1))
