"""The verifier re-derives the third-party audit gates from the log: an operator who holds
the log key and appends an advance whose report claims `third_party_audit` or
`open_findings` met is refused when the logged certificates, assignments, conclusions
and finding lifecycle say otherwise."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import transaction

from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.auditing import services
from govflow.releases.models import Release
from govflow.releases.services import release_advance
from tests.auditing.conftest import make_world
from tests.auditing.support import append, conclude, file
from tests.verify.test_replay import forge_advance, honest_report, made_up, verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return make_world()


def forged(world, kind: str, evidence: dict | None = None):
    """The operator logs the advance to limited_rollout with every gate claimed met (the
    ``kind`` gate's evidence replaced, if given; digest recomputed); then the verifier."""
    release = Release.objects.get(pk=world.release.pk)
    report = honest_report(release, world.manager.user, "limited_rollout")
    if evidence is not None:
        next(g for g in report["gates"] if g["kind"] == kind)["evidence"] = evidence
    forge_advance(release, world.manager.user, to="limited_rollout", report=made_up(report))
    return verify(release)


def test_an_honest_audit_verifies_with_both_gates_re_derived(world):
    # given: the assigned firm concluded pass; a medium finding was filed and resolved
    finding = file(world.erin, world.release)
    append(world.erin, finding, "resolve")
    conclude(world.erin, world.assignment, "pass")

    release_advance(release_id=world.release.pk, actor=world.manager.user)

    result = verify(Release.objects.get(pk=world.release.pk))
    assert result.passed, result.render()
    assert ("third_party_audit → limited_rollout; gates re-derived from the log: "
            "third_party_audit, open_findings") in result.render()
    assert "taken from the recorded report" not in result.render()


def test_a_forged_audit_pass_without_a_logged_conclusion_is_refused(world):
    # given: the auditor was assigned but concluded nothing; the operator invents a pass
    evidence = {"round": 0, "required": 1, "risk_areas": ["deception"], "auditors": [
        {"organization": world.firm.slug, "assignments": [world.assignment.pk],
         "certificates": [world.certificate.pk], "conclusions": [{"id": 1, "result": "pass"}],
         "counted": True, "problems": []}]}
    result = forged(world, "third_party_audit", evidence)

    assert not result.passed
    assert "refused by rule gate_not_met" in result.failure
    assert f"assignment {world.assignment.pk} (erin) has no conclusion yet" in result.failure


def test_a_suspended_certificate_withdraws_the_logged_pass(world):
    conclude(world.erin, world.assignment, "pass")
    services.certificate_suspend(certificate_id=world.certificate.pk, reason="inquiry",
                                 actor=world.rita.user)
    result = forged(world, "third_party_audit")

    assert not result.passed
    assert "refused by rule gate_not_met" in result.failure
    assert f"certificate {world.certificate.pk} is suspended" in result.failure


def test_a_declared_conflict_withdraws_the_logged_pass(world):
    conclude(world.erin, world.assignment, "pass")
    services.conflict_declare(auditor=world.firm, lab_slug=world.lab.slug, kind="financial",
                              description="equity stake", starts_on=date(2020, 1, 1),
                              ends_on=None, actor=world.frank.user)
    result = forged(world, "third_party_audit")

    assert not result.passed
    assert "declared conflict(s) with the lab" in result.failure


def test_a_forged_advance_past_an_open_high_finding_is_refused(world):
    # given: a pass, but a high finding still open (the lab only responded to it)
    finding = file(world.erin, world.release, severity="high")
    append(world.manager, finding, "respond")
    conclude(world.erin, world.assignment, "pass")
    # when: the operator logs the advance with the finding left out of the gate's evidence
    result = forged(world, "open_findings", {"severity": "high", "open": []})

    assert not result.passed
    assert "refused by rule gate_not_met" in result.failure
    assert f"#{finding.pk} high (lab_responded)" in result.failure


def test_a_report_that_lists_evidence_the_log_does_not_have_is_refused(world):
    conclude(world.erin, world.assignment, "pass")
    result = forged(world, "open_findings", {"severity": "high", "open": [], "extra": 1})

    assert not result.passed
    assert "refused by rule gate_evidence" in result.failure


def test_an_unsigned_reinstatement_the_operator_appends_does_not_restore_the_pass(world):
    # given: the regulator suspended the firm's certificate after its pass
    conclude(world.erin, world.assignment, "pass")
    services.certificate_suspend(certificate_id=world.certificate.pk, reason="inquiry",
                                 actor=world.rita.user)
    # when: the operator writes a reinstatement in the regulator's name, with no statement
    with transaction.atomic():
        audit_append(event_type=EventType.CERTIFICATE_REINSTATED, actor=world.rita.user,
                     subject=world.certificate, organization_id=world.firm.pk,
                     payload={"certificate": world.certificate.pk, "auditor_id": world.firm.pk,
                              "from_status": "suspended", "to_status": "active",
                              "reason": "cleared", "open_assignments": []})
    result = forged(world, "third_party_audit")

    # then
    assert not result.passed
    assert f"certificate {world.certificate.pk} is suspended" in result.failure
