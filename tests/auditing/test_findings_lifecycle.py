"""A finding's life: filed (visible to the regulator at once), never edited or deleted,
followed by signed statements from the lab, the filing auditor and the regulator, each
allowed only from the statuses the lifecycle names."""

from __future__ import annotations

import base64
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction

from govflow.audit.models import AuditEvent
from govflow.auditing import acts, services
from govflow.auditing.models import Finding
from govflow.auditing.predicates import build_finding_statement
from govflow.core.errors import Conflict, PermissionDenied
from govflow.keys.acts import act_record
from govflow.trust.keys import public_key_id
from tests.auditing.support import (
    append,
    conclude,
    file,
    person,
    recorded,
    release_json,
    sha256,
)

pytestmark = pytest.mark.django_db


def status_of(finding) -> tuple[str, str]:
    from govflow.auditing.services.findings import finding_state

    return finding_state(finding)


def test_a_filed_finding_is_logged_with_its_envelope_and_visible_to_the_regulator(world):
    finding = file(world.erin, world.release, severity="high", title="Lies to its manager")

    [event] = AuditEvent.objects.filter(event_type="finding.filed")
    assert event.subject_id == str(finding.pk)
    assert (event.actor, event.release_id, event.organization_id) == (
        world.erin.user, world.release.pk, world.lab.pk)
    payload = event.payload
    assert payload["severity"] == "high"
    assert payload["title"] == "Lies to its manager"
    assert payload["key_id"] == public_key_id(world.erin.key.public_key())
    assert json.loads(base64.b64decode(payload["envelope"]["payload"])) == payload["statement"]
    seen = world.rita.client.get("/api/findings").json()["results"]
    assert [(f["id"], f["status"], f["current_severity"]) for f in seen] == [
        (finding.pk, "open", "high")]


@pytest.mark.parametrize("sql", [
    "UPDATE auditing_finding SET severity = 'info'",
    "DELETE FROM auditing_finding",
    "UPDATE auditing_findingstatement SET text = 'rewritten'",
    "DELETE FROM auditing_findingstatement",
    "DELETE FROM auditing_finding_attachments",
    "UPDATE auditing_conclusion SET result = 'pass'",
    "DELETE FROM auditing_conclusion_findings",
])
def test_findings_statements_and_conclusions_cannot_be_edited_or_deleted(world, sql):
    # given a finding with an attachment, a statement, and a fail conclusion listing it
    upload = SimpleUploadedFile("log.txt", b"transcript")
    services.attachment_upload(release_id=world.release.pk, upload=upload, name="log.txt",
                               media_type="text/plain", declared_sha256=sha256(b"transcript"),
                               actor=world.erin.user)
    finding = file(world.erin, world.release,
                   attachments=[{"name": "log.txt", "sha256": sha256(b"transcript")}])
    append(world.manager, finding, "respond", "we fixed it")
    conclude(world.erin, world.assignment, "fail")

    # when anyone with the application's database access rewrites history, it is refused
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)

    assert Finding.objects.get(pk=finding.pk).severity == "medium"


def test_respond_then_resolve_by_the_filing_auditor(world):
    finding = file(world.erin, world.release)

    append(world.manager, finding, "respond", "patched the system prompt")
    assert status_of(finding) == ("lab_responded", "medium")
    row = append(world.erin, finding, "resolve", "re-ran the scenario: no deception")

    assert (row.status_from, row.status_to) == ("lab_responded", "resolved")
    events = AuditEvent.objects.filter(event_type="finding.statement_appended").order_by("id")
    assert [(e.payload["action"], e.payload["status_to"]) for e in events] == [
        ("respond", "lab_responded"), ("resolve", "resolved")]


def test_only_the_filing_auditor_resolves(world):
    finding = file(world.erin, world.release)
    append(world.manager, finding, "respond")
    response = world.frank.client.get(f"/api/findings/{finding.pk}")

    assert response.status_code == 404  # frank is not on the engagement
    from govflow.auditing.access import access_finding_action

    with pytest.raises(PermissionDenied, match="the auditor who filed it"):
        access_finding_action(world.manager.user, finding, "resolve")


def test_the_lab_accepts_a_medium_risk_on_its_own(world):
    finding = file(world.erin, world.release, severity="medium")
    append(world.manager, finding, "respond", "mitigated by monitoring")

    append(world.manager, finding, "accept_risk", "residual risk is acceptable")

    assert status_of(finding) == ("risk_accepted", "medium")


def test_a_high_risk_acceptance_needs_the_regulators_signed_approval(world):
    finding = file(world.erin, world.release, severity="high")
    append(world.manager, finding, "respond")

    append(world.manager, finding, "accept_risk", "we accept it")
    assert status_of(finding)[0] == "risk_acceptance_requested"
    append(world.rita, finding, "decide", "approved given the monitoring plan",
           outcome="risk_accepted")

    assert status_of(finding)[0] == "risk_accepted"


def test_the_regulator_can_refuse_a_risk_acceptance(world):
    finding = file(world.erin, world.release, severity="critical")
    append(world.manager, finding, "respond")
    append(world.manager, finding, "accept_risk")

    append(world.rita, finding, "decide", "fix it", outcome="upheld")

    assert status_of(finding) == ("open", "critical")


def test_a_dispute_is_escalated_and_the_regulators_decision_closes_it(world):
    finding = file(world.erin, world.release, severity="high")
    append(world.manager, finding, "dispute", "this is intended behaviour")
    append(world.erin, finding, "escalate", "it is not")

    append(world.rita, finding, "decide", "the auditor is right, but it is fixed now",
           outcome="resolved")

    assert status_of(finding) == ("resolved", "high")


def test_an_amendment_changes_the_severity_but_not_the_status(world):
    finding = file(world.erin, world.release, severity="low")
    append(world.manager, finding, "respond")

    append(world.erin, finding, "amend", "worse than thought: it also doubles down",
           severity="high")

    assert status_of(finding) == ("lab_responded", "high")
    assert Finding.objects.get(pk=finding.pk).severity == "low"  # as filed, untouched


@pytest.mark.parametrize(("steps", "action"), [
    ([], "accept_risk"),  # the lab must respond first
    ([("manager", "respond"), ("erin", "resolve")], "respond"),  # closed
    ([], "escalate"),  # nothing disputed
    ([], "decide"),  # nothing for the regulator to decide
])
def test_an_action_the_status_does_not_allow_is_409(world, steps, action):
    finding = file(world.erin, world.release)
    people = {"manager": world.manager, "erin": world.erin}
    for who, step in steps:
        append(people[who], finding, step)
    actor = {"accept_risk": world.manager, "respond": world.manager, "escalate": world.erin,
             "decide": world.rita}[action]
    before = recorded()
    extra = {"outcome": "resolved"} if action == "decide" else {}

    with pytest.raises(Conflict) as caught:
        append(actor, finding, action, **extra)

    assert caught.value.detail["rule"] == "lifecycle"
    assert recorded() == before


def test_a_lab_signer_may_respond_but_not_accept_a_risk(world):
    finding = file(world.erin, world.release)
    signer = person(world.lab, "lab_signer")
    append(signer, finding, "respond")
    from govflow.auditing.access import access_finding_action

    with pytest.raises(PermissionDenied, match="release_manager or safety_officer"):
        access_finding_action(signer.user, finding, "accept_risk")


def test_a_suspended_auditor_cannot_resolve_but_the_lab_can_still_respond(world):
    # The suspension lands between the kernel's reads (authorised, verified while the
    # certificate was in force) and its recording transaction: the record step re-reads
    # the auditor's standing. (Once suspended, the authorise step already answers 404:
    # tests/auditing/test_ended_auditor.py.)
    finding = file(world.erin, world.release)
    resolve = world.erin.verified(build_finding_statement(
        release=release_json(world.release), finding=finding.pk, action="resolve",
        text="noted"), acts.FINDING_STATEMENT, target=finding.pk)
    services.certificate_suspend(certificate_id=world.certificate.pk, reason="inquiry",
                                 actor=world.rita.user)

    append(world.manager, finding, "respond")
    with pytest.raises(PermissionDenied) as caught:
        act_record(acts.FINDING_STATEMENT, resolve, actor=world.erin.user, target=finding.pk)

    assert caught.value.detail["rule"] == "certificate_suspended"
    assert status_of(finding)[0] == "lab_responded"
