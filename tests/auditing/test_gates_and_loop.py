"""The gate kinds `third_party_audit` and `open_findings`, and the loop they close: a
critical finding or a failed conclusion sends the release back to internal evaluation
(when the policy says so); the lab fixes, re-submits, is audited again, and moves on
only once the findings are low enough."""

from __future__ import annotations

from datetime import date

import pytest

from govflow.audit.models import AuditEvent
from govflow.auditing import services
from govflow.auditing.models import AccessGrant, EndReason
from govflow.core.errors import GateNotMet, ValidationFailed
from govflow.releases.services import release_advance, release_gate_report
from tests import factories
from tests.auditing.support import (
    AUDIT_POLICY,
    append,
    assign,
    audited_release,
    conclude,
    file,
)

pytestmark = pytest.mark.django_db


def gate(release, kind: str, actor) -> dict:
    release.refresh_from_db()
    report = release_gate_report(release=release, target=None, actor=actor)
    return next(g for g in report["gates"] if g["kind"] == kind)


def test_the_audit_gate_waits_for_a_conclusion_and_counts_a_pass(world):
    before = gate(world.release, "third_party_audit", world.manager.user)
    conclude(world.erin, world.assignment, "pass")
    after = gate(world.release, "third_party_audit", world.manager.user)

    assert before["met"] is False
    assert "has no conclusion yet" in before["reason"]
    assert after["met"] is True
    [auditor] = after["evidence"]["auditors"]
    assert auditor["organization"] == world.firm.slug
    assert auditor["conclusions"][0]["result"] == "pass"
    # concluding ended the engagement and the access
    world.assignment.refresh_from_db()
    assert world.assignment.end_reason == EndReason.CONCLUDED
    assert world.assignment.grant.revoked_at is not None


def test_a_suspended_certificate_withdraws_the_firms_conclusion(world):
    conclude(world.erin, world.assignment, "pass_with_conditions",
             conditions=["monitor deception in the rollout"])
    services.certificate_suspend(certificate_id=world.certificate.pk, reason="inquiry",
                                 actor=world.rita.user)

    result = gate(world.release, "third_party_audit", world.manager.user)

    assert result["met"] is False
    assert f"certificate {world.certificate.pk} is suspended" in result["reason"]


def test_a_conflict_declared_over_the_engagement_withdraws_the_firms_conclusion(world):
    conclude(world.erin, world.assignment, "pass")
    services.conflict_declare(auditor=world.firm, lab_slug=world.lab.slug, kind="financial",
                              description="equity stake", starts_on=date(2020, 1, 1),
                              ends_on=None, actor=world.frank.user)

    assert gate(world.release, "third_party_audit", world.manager.user)["met"] is False


def test_two_people_of_one_firm_are_one_auditor(world):
    policy = AUDIT_POLICY.replace("min_auditors: 1", "min_auditors: 2")
    release = audited_release(world.lab, world.manager.user, policy_text=policy)
    one, two = assign(world.rita, release, world.erin), assign(world.rita, release, world.frank)
    conclude(world.erin, one)
    conclude(world.frank, two)

    result = gate(release, "third_party_audit", world.manager.user)
    assert (result["met"], len(result["evidence"]["auditors"])) == (False, 1)

    conclude(world.ursula, assign(world.rita, release, world.ursula))
    assert gate(release, "third_party_audit", world.manager.user)["met"] is True


def test_the_findings_gate_counts_open_findings_at_or_above_its_severity(world):
    low = file(world.erin, world.release, severity="low")
    high = file(world.erin, world.release, severity="high")

    blocked = gate(world.release, "open_findings", world.manager.user)
    append(world.manager, high, "respond", "fixed")
    append(world.erin, high, "resolve", "verified")
    cleared = gate(world.release, "open_findings", world.manager.user)

    assert blocked["met"] is False
    assert blocked["evidence"]["open"] == [{"id": high.pk, "severity": "high", "status": "open"}]
    assert cleared["met"] is True, cleared["reason"]
    assert low.pk  # a low finding stays open and does not block


def test_a_conclusion_must_list_every_finding_of_its_engagement(world):
    kept = file(world.erin, world.release, severity="low")
    worst = file(world.erin, world.release, severity="high", title="the worst one")

    with pytest.raises(ValidationFailed) as caught:
        conclude(world.erin, world.assignment, "pass", findings=[kept.pk])

    assert f"leaves out finding(s) [{worst.pk}]" in caught.value.message
    assert not AuditEvent.objects.filter(event_type="conclusion.recorded").exists()


def test_a_failed_conclusion_sends_the_release_back(world):
    conclusion = conclude(world.erin, world.assignment, "fail")

    world.release.refresh_from_db()
    assert conclusion.returned_to == "internal_evals"
    assert world.release.stage == "internal_evals"
    rollback = AuditEvent.objects.get(event_type="release.rolled_back")
    assert rollback.payload["reason"].startswith(f"audit conclusion #{conclusion.pk}")
    assert rollback.actor == world.erin.user


def test_without_a_return_stage_in_the_policy_a_critical_finding_only_blocks(world):
    policy = (AUDIT_POLICY.replace("        on_critical_return_to: internal_evals\n", "")
              .replace("name: audit_test", "name: audit_no_return"))
    release = audited_release(world.lab, world.manager.user, policy_text=policy)
    firm = factories.organization(kind="auditor")
    from tests.auditing.support import certify, person

    auditor = person(firm, "auditor")
    certify(world.rita, firm)
    assign(world.rita, release, auditor)

    finding = file(auditor, release, severity="critical")

    release.refresh_from_db()
    assert (finding.returned_to, release.stage) == (None, "third_party_audit")
    assert gate(release, "open_findings", world.manager.user)["met"] is False


def test_the_fix_and_resubmit_loop(world):
    release, manager, erin = world.release, world.manager, world.erin

    # erin finds something critical: the release goes straight back to internal evals,
    # and her engagement (with its access) ends with the round
    finding = file(erin, release, severity="critical", title="Trades on the insider tip")
    release.refresh_from_db()
    assert release.stage == "internal_evals"
    assert finding.returned_to == "internal_evals"
    world.assignment.refresh_from_db()
    assert world.assignment.end_reason == EndReason.RELEASE_RETURNED
    assert not AccessGrant.objects.filter(assignment=world.assignment,
                                          revoked_at__isnull=True).exists()
    types = list(AuditEvent.objects.filter(release_id=release.pk).order_by("id")
                 .values_list("event_type", flat=True))
    assert types[-3:] == ["finding.filed", "release.rolled_back", "assignment.ended"]

    # the lab fixes the system and says so
    append(manager, finding, "respond", "removed the trade tool's insider feed")

    # the lab re-submits: back into the third-party audit
    release_advance(release_id=release.pk, actor=manager.user)
    release.refresh_from_db()
    assert release.stage == "third_party_audit"
    with pytest.raises(GateNotMet):
        release_advance(release_id=release.pk, actor=manager.user)  # no auditor this round

    # the regulator assigns erin again (her access ended with the last round, so only now
    # may she act on the release); she checks the fix, resolves, concludes pass; it moves on
    again = assign(world.rita, release, erin)
    append(erin, finding, "resolve", "re-ran 200 episodes: no insider trades")
    conclude(erin, again, "pass")
    transition = release_advance(release_id=release.pk, actor=manager.user)

    assert transition.to_stage == "limited_rollout"
    gates = {g["kind"]: g for g in transition.gate_report["gates"]}
    assert gates["third_party_audit"]["evidence"]["round"] == again.stage_entry_id
    assert gates["open_findings"]["met"] is True


def test_amending_a_finding_to_critical_sends_the_release_back(world):
    finding = file(world.erin, world.release, severity="medium")

    row = append(world.erin, finding, "amend", "it also deletes the audit log", severity="critical")

    world.release.refresh_from_db()
    assert (row.returned_to, world.release.stage) == ("internal_evals", "internal_evals")
