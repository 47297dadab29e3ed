"""The whistleblower channel: anyone may report without an account; nothing about the
sender is kept or logged; the receipt code alone reads replies; only regulators read."""

from __future__ import annotations

import logging
import re

import pytest
from django.test import Client

from govflow.audit.models import AuditEvent
from govflow.oversight.models import WhistleblowerMessage, WhistleblowerReport
from govflow.oversight.privacy import WhistleblowerLogFilter
from govflow.oversight.whistleblower import receipt_digest, report_file, report_message_add
from tests import factories

pytestmark = pytest.mark.django_db
CODE = re.compile(r'id="receipt-code">([A-Z2-7-]+)<')


@pytest.fixture
def regulator_org():
    return factories.organization(kind="regulator")


def _file(client, body="The lab left a failed deception eval out of its report."):
    response = client.post("/whistleblow/", {"subject": "hidden eval", "body": body,
                                              "concerning": "Frontier Lab"},
                           REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Secret-Browser/1.0")
    assert response.status_code == 200
    return CODE.search(response.content.decode()).group(1)


def test_a_report_is_filed_without_an_account_and_keeps_nothing_about_the_sender(
        regulator_org, release_manager):
    # given a lab employee signed in to the console in the same browser
    client = Client()
    client.force_login(release_manager)

    # when they file a report through the public form
    code = _file(client)

    # then the report holds only what they wrote and the day, and the code only hashed
    report = WhistleblowerReport.objects.get()
    assert {f.name for f in WhistleblowerReport._meta.fields} == {
        "id", "receipt_digest", "subject", "concerning", "body", "received_on"}
    assert report.receipt_digest == receipt_digest(code)
    assert code not in report.receipt_digest
    stored = repr(list(WhistleblowerReport.objects.values()))
    assert "203.0.113.7" not in stored
    assert "Secret-Browser" not in stored
    # and the audit event belongs to the regulator, carries a digest, not the text
    event = AuditEvent.objects.get(event_type="whistleblower.report_received")
    assert event.actor_id is None
    assert event.organization_id == regulator_org.pk
    assert "deception eval" not in event.canonical
    assert "203.0.113.7" not in event.canonical


def test_the_receipt_code_reads_replies_and_writes_back(regulator_org):
    regulator = factories.person(regulator_org, "regulator")
    client = Client()
    code = _file(client)
    report = WhistleblowerReport.objects.get()
    report_message_add(report_id=report.pk, body="Thank you. Which eval?", actor=regulator)

    read = client.post("/whistleblow/receipt/", {"code": code.lower().replace("-", " ")})
    answered = client.post("/whistleblow/receipt/", {"code": code,
                                                     "body": "The insider-trading one."})

    assert read.status_code == 200
    assert "Which eval?" in read.content.decode()
    assert answered.status_code == 200
    assert "The insider-trading one." in answered.content.decode()
    assert list(WhistleblowerMessage.objects.values_list("from_regulator", flat=True)) == [
        True, False]


def test_a_wrong_code_reads_nothing(regulator_org):
    _file(Client())

    response = Client().post("/whistleblow/receipt/", {"code": "AAAA-BBBB-CCCC"})

    assert response.status_code == 404
    assert "left a failed" not in response.content.decode()


def test_receipt_codes_carry_160_random_bits(regulator_org):
    codes = {report_file(body="x")[1] for _ in range(20)}

    assert len(codes) == 20
    assert all(len(c.replace("-", "")) == 32 for c in codes)  # base32: 5 bits a character


def test_only_regulators_read_reports(regulator_org, release_manager):
    regulator = factories.person(regulator_org, "regulator")
    _file(Client())
    report = WhistleblowerReport.objects.get()
    lab_client, reg_client = Client(), Client()
    lab_client.force_login(release_manager)
    reg_client.force_login(regulator)

    assert lab_client.get("/console/whistleblower/").status_code == 403
    assert lab_client.get(f"/console/whistleblower/{report.pk}/").status_code == 404
    assert reg_client.get(f"/console/whistleblower/{report.pk}/").status_code == 200
    replied = reg_client.post(f"/console/whistleblower/{report.pk}/", {"body": "We are on it."})
    assert replied.status_code == 302
    assert WhistleblowerMessage.objects.get().author == regulator


def test_lab_users_do_not_see_whistleblower_events(api, regulator_org, release_manager):
    _file(Client())

    events = api(release_manager).get("/api/log/events", {"page_size": 500}).json()["results"]

    assert not [e for e in events if e["event_type"].startswith("whistleblower.")]


def test_no_log_record_mentions_a_request_to_the_channel(regulator_org, caplog):
    client = Client()
    with caplog.at_level(logging.DEBUG):
        _file(client)
        client.get("/whistleblow/no-such-page/")  # a 404 Django would log as a warning
        client.get("/console/no-such-page/")  # control: other paths are still logged

    assert not [r for r in caplog.records if "/whistleblow" in r.getMessage()]
    assert [r for r in caplog.records if "/console/no-such-page/" in r.getMessage()]


def test_the_log_filter_drops_gunicorn_access_lines_for_the_channel():
    keep, drop = WhistleblowerLogFilter(), logging.LogRecord
    record = drop("gunicorn.access", logging.INFO, "", 0, '%(h)s "%(r)s" %(a)s',
                  ({"h": "203.0.113.7", "r": "POST /whistleblow/ HTTP/1.1", "a": "UA",
                    "U": "/whistleblow/"},), None)
    other = drop("gunicorn.access", logging.INFO, "", 0, '%(h)s "%(r)s" %(a)s',
                 ({"h": "203.0.113.7", "r": "GET /console/ HTTP/1.1", "a": "UA",
                   "U": "/console/"},), None)

    assert keep.filter(record) is False
    assert keep.filter(other) is True
