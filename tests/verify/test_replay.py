"""The verifier replays every release: a forged advance the operator appends with a
valid log signature (it runs the server and holds the log key) is refused, naming the
event and the rule it breaks."""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from django.utils import timezone

from govflow.audit.events import EventType
from govflow.audit.export import build_bundle
from govflow.audit.logkey import log_verifier_key
from govflow.audit.services import audit_append
from govflow.gates.engine import evaluate_stage, evidence_digest
from govflow.policy.selectors import policy_of
from govflow.releases.models import Release, ReleaseStatus
from govflow.releases.services import release_advance, release_set_status
from govflow.verify.bundle import verify_bundle
from tests import factories
from tests.oversight.support import regulator_with_key
from tests.oversight.test_holds import _place
from tests.oversight.test_sanctions import _impose, _release

pytestmark = pytest.mark.django_db


def verify(release):
    return verify_bundle(json.loads(json.dumps(build_bundle(release=release), default=str)),
                         log_key=log_verifier_key())


def honest_report(release, actor, target):
    # A copy: the report shares its params with the (cached) policy, and tests edit it.
    return json.loads(json.dumps(evaluate_stage(
        release=release, policy=policy_of(release.policy), target=target, now=timezone.now(),
        requested_by=actor,
    ), default=str))


def forge_advance(release, actor, *, to, frm=None, report=None):
    """What the operator can do: write the advance event through the app's own append
    path, so that its leaf is correct and the server's checkpoint task signs it."""
    report = report or honest_report(release, actor, to)
    with transaction.atomic():
        audit_append(
            event_type=EventType.RELEASE_ADVANCED, actor=actor, subject=release,
            organization_id=release.organization_id, release_id=release.pk,
            payload={"transition": 999_999, "from": frm or release.stage, "to": to,
                     "policy_digest": release.policy.digest, "gate_report": report},
        )


def made_up(report):
    """Every gate claimed met over invented evidence, digest recomputed to match."""
    for gate in report["gates"]:
        gate["met"] = True
        if gate["kind"] == "evidence_document":
            gate["evidence"] = {"documents": [{"id": 1, "name": "report.pdf",
                                               "sha256": "ab" * 32}]}
    report["all_met"] = True
    report["evidence_digest"] = evidence_digest(report)
    return report


def test_an_honest_advance_verifies_and_names_the_gates_re_derived(lab, release_manager):
    release = factories.release(lab, release_manager)
    factories.attach(release, release_manager)
    release_advance(release_id=release.pk, actor=release_manager)

    report = verify(release)

    assert report.passed, report.render()
    assert ("internal_evals → third_party_audit; gates re-derived from the log: "
            "evidence_document") in report.render()


def test_a_forged_advance_of_a_held_release_is_refused(api, lab, release_manager):
    # given: a release whose gates are met, under a regulator's signed hold
    release = factories.release(lab, release_manager)
    factories.attach(release, release_manager)
    regulator, key = regulator_with_key()
    assert _place(api, regulator, key, release).status_code == 201

    # when: the operator appends the advance the hold stopped
    forge_advance(release, release_manager, to="third_party_audit")

    # then
    report = verify(release)
    assert not report.passed
    assert "(release.advanced" in report.failure
    assert "refused by rule regulatory_hold" in report.failure


def test_a_forged_advance_from_the_wrong_stage_is_refused(lab, release_manager):
    release = factories.release(lab, release_manager)
    forge_advance(release, release_manager, frm="limited_rollout", to="open_weights")

    report = verify(release)

    assert not report.passed
    assert "refused by rule from_stage" in report.failure


def test_a_forged_skip_straight_to_open_weights_is_refused(lab, release_manager):
    # open_weights has no gates in this policy, so the report is honestly "all met"
    release = factories.release(lab, release_manager)
    forge_advance(release, release_manager, to="open_weights")

    report = verify(release)

    assert not report.passed
    assert "refused by rule one_stage_at_a_time" in report.failure
    assert "the next stage is 'third_party_audit', not 'open_weights'" in report.failure


def test_a_forged_advance_with_a_made_up_all_met_report_is_refused(lab, release_manager):
    # given: no red-team report was ever attached
    release = factories.release(lab, release_manager)
    report = made_up(honest_report(release, release_manager, "third_party_audit"))

    forge_advance(release, release_manager, to="third_party_audit", report=report)

    result = verify(release)
    assert not result.passed
    assert "refused by rule gate_evidence" in result.failure
    assert "the log has []" in result.failure


def test_a_forged_dwell_is_refused(lab, release_manager):
    # given: a release that entered third_party_audit just now (dwell: one hour)
    release = factories.release(lab, release_manager)
    factories.attach(release, release_manager)
    release_advance(release_id=release.pk, actor=release_manager)
    release.refresh_from_db()
    # when: the operator logs the next advance with a report claiming an earlier entry
    report = honest_report(release, release_manager, "limited_rollout")
    report["gates"][0]["evidence"]["entered_at"] = "2026-01-01T00:00:00Z"
    forge_advance(release, release_manager, to="limited_rollout", report=made_up(report))

    result = verify(release)

    assert not result.passed
    assert "refused by rule gate_evidence" in result.failure
    assert "the log at" in result.failure


def test_a_report_judged_with_weaker_parameters_is_refused(lab, release_manager):
    release = factories.release(lab, release_manager)
    factories.attach(release, release_manager)
    report = honest_report(release, release_manager, "third_party_audit")
    report["gates"][0]["params"]["document_type"] = "any_document"
    report["evidence_digest"] = evidence_digest(report)
    forge_advance(release, release_manager, to="third_party_audit", report=report)

    result = verify(release)

    assert not result.passed
    assert "refused by rule gate_params" in result.failure


def test_a_forged_advance_of_a_paused_release_is_refused(lab, release_manager):
    release = factories.release(lab, release_manager)
    factories.attach(release, release_manager)
    release_set_status(release_id=release.pk, move=EventType.RELEASE_PAUSED, reason="incident",
                       actor=release_manager)
    forge_advance(release, release_manager, to="third_party_audit")

    result = verify(release)

    assert not result.passed
    assert "refused by rule release_status" in result.failure
    assert "is paused" in result.failure


def test_a_forged_advance_past_a_logged_sanction_is_refused(api, lab, release_manager):
    # given: a sanction forbids systems above 1e25 FLOP to pass internal evaluation, and a
    # release of a 1e26 FLOP system
    release = _release(lab, release_manager, 1e26)
    regulator, key = regulator_with_key()
    assert _impose(api, regulator, key, lab).status_code == 201
    # when: the operator logs an advance whose no_sanction gate claims to be met
    report = honest_report(release, release_manager, "third_party_audit")
    report["gates"][0]["evidence"] = {"sanctions": []}
    forge_advance(release, release_manager, to="third_party_audit", report=made_up(report))

    result = verify(release)

    assert not result.passed
    assert "refused by rule sanction" in result.failure


def test_a_release_below_the_sanctioned_compute_still_verifies(api, lab, release_manager):
    release = _release(lab, release_manager, 1e20)
    regulator, key = regulator_with_key()
    assert _impose(api, regulator, key, lab).status_code == 201
    release_advance(release_id=release.pk, actor=release_manager)

    result = verify(Release.objects.get(pk=release.pk))

    assert result.passed, result.render()
    assert "gates re-derived from the log: no_sanction" in result.render()
    assert Release.objects.get(pk=release.pk).status == ReleaseStatus.ACTIVE

