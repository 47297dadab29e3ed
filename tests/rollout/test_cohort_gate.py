"""Gate kind `cohort`: entering the stage needs its cohort within cap and approved growth,
every member with KYC in force at the required level."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from govflow.core.errors import GateNotMet
from govflow.policy.document import PolicyInvalid, parse_policy
from govflow.releases.services import release_advance, release_gate_report
from govflow.rollout.services import cohort_admit
from tests.rollout.support import customer


def _gate(report) -> dict:
    return next(g for g in report["gates"] if g["kind"] == "cohort")


def test_an_empty_cohort_does_not_open_the_rollout(world):
    gate = _gate(release_gate_report(release=world.release, target=None,
                                     actor=world.manager.user))
    assert gate["met"] is False
    assert "0 member(s); at least 1 needed" in gate["reason"]


def test_a_cohort_within_its_cap_with_kyc_in_force_opens_it(world):
    for external_id in ("c1", "c2"):
        customer(world.lab, world.manager.user, external_id)
    cohort_admit(release_id=world.release.pk, stage="limited_rollout", external_ids=["c1", "c2"],
                 actor=world.manager.user)
    report = release_gate_report(release=world.release, target=None, actor=world.manager.user)
    gate = _gate(report)
    assert gate["met"] is True
    assert gate["evidence"]["size"] == 2
    assert gate["evidence"]["cap"] == 4
    assert gate["evidence"]["members_lacking_kyc"] == []
    transition = release_advance(release_id=world.release.pk, actor=world.manager.user)
    assert transition.to_stage == "limited_rollout"


def test_a_member_whose_kyc_expired_since_admission_keeps_the_gate_shut(world, monkeypatch):
    customer(world.lab, world.manager.user, "c1", expires_in=timedelta(days=1))
    member = cohort_admit(release_id=world.release.pk, stage="limited_rollout",
                          external_ids=["c1"], actor=world.manager.user)[0]
    # when the advance is asked for after the record expired
    later = timezone.now() + timedelta(days=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    with pytest.raises(GateNotMet) as refused:
        release_advance(release_id=world.release.pk, actor=world.manager.user)
    gate = _gate(refused.value.detail["gate_report"])
    # then the gate names the member by salted leaf, never by id
    assert gate["met"] is False
    assert gate["evidence"]["members_lacking_kyc"] == [member.leaf]
    assert "lack KYC in force at level standard" in gate["reason"]


@pytest.mark.parametrize(("gate", "message"), [
    ("{kind: cohort, cap: 10, step: 20, step_approvals: {safety_officer: 1}}",
     "must be below the cap"),
    ("{kind: cohort, cap: 10, step: 5}", "name who approves growth"),
    ("{kind: cohort, step: 5, step_approvals: {regulator: 1}}", "not a lab role"),
    ("{kind: cohort, kyc_level: platinum}", "'platinum' is not one of"),
])
def test_a_bad_cohort_gate_is_refused_when_the_policy_is_read(gate, message):
    text = f"name: p\nstages:\n  - name: a\n  - name: b\n    gates: [{gate}]\n"
    with pytest.raises(PolicyInvalid) as refused:
        parse_policy(text)
    assert message in str(refused.value)
