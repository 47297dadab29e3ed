"""Admitting customers to a stage's cohort: within the cap, within signed growth, each
with KYC in force; every admission and removal an audit event naming a salted leaf."""

from __future__ import annotations

from datetime import timedelta

import pytest

from govflow.audit.models import AuditEvent
from govflow.client import signing
from govflow.core.errors import Conflict, NotFound
from govflow.keys.acts import act_record, act_verify
from govflow.rollout.acts import GROWTH_APPROVE
from govflow.rollout.models import CohortMember, GrowthApproval
from govflow.rollout.services import cohort_admit, cohort_remove
from govflow.rollout.services.growth import growth_statement
from tests.rollout.support import customer, events_since, last_event_id, verify

STAGE = "limited_rollout"


def _admit(world, *ids):
    return cohort_admit(release_id=world.release.pk, stage=STAGE, external_ids=list(ids),
                        actor=world.manager.user)


def _customers(world, *ids, **kyc):
    return [customer(world.lab, world.manager.user, i, **kyc) for i in ids]


def _approve(world, up_to: int, who=None, decision="approve"):
    who = who or world.safety
    statement = growth_statement(release=world.release, stage=STAGE, up_to=up_to,
                                 role="safety_officer", decision=decision, comment="checked",
                                 actor=who.user)
    signed = signing.sign(statement, who.key)
    verified, _ = act_verify(GROWTH_APPROVE, envelope=signed, actor=who.user)
    return act_record(GROWTH_APPROVE, verified, actor=who.user)


def test_admissions_are_one_event_each_naming_a_salted_leaf(world):
    _customers(world, "ada-lovelace", "grace-hopper")
    mark = last_event_id()
    members = _admit(world, "ada-lovelace", "grace-hopper")
    assert events_since(mark) == ["cohort.member_admitted", "cohort.member_admitted"]
    logged = list(AuditEvent.objects.filter(pk__gt=mark).order_by("id"))
    assert [e.payload["leaf"] for e in logged] == [m.leaf for m in members]
    assert [e.payload["size"] for e in logged] == [1, 2]
    assert all("lovelace" not in e.canonical and "hopper" not in e.canonical for e in logged)
    assert members[0].salt != members[1].salt


def test_growth_past_a_step_needs_a_signed_approval(world):
    _customers(world, "c1", "c2", "c3")
    _admit(world, "c1", "c2")
    # when a third customer would pass the first step (2) with no approval
    with pytest.raises(Conflict) as refused:
        _admit(world, "c3")
    # then the admission is refused naming the step and who must sign
    assert refused.value.detail["rule"] == "growth_not_approved"
    assert refused.value.detail["step"] == 4
    assert CohortMember.objects.count() == 2
    # and once the safety officer signs for growth up to 4, it goes through
    mark = last_event_id()
    _approve(world, 4)
    assert events_since(mark) == ["cohort.growth_signed"]
    _admit(world, "c3")
    assert CohortMember.objects.filter(removed_at__isnull=True).count() == 3


def test_a_rejection_withdraws_the_signers_approval(world):
    _customers(world, "c1", "c2", "c3")
    _admit(world, "c1", "c2")
    _approve(world, 4)
    _approve(world, 4, decision="reject")
    with pytest.raises(Conflict) as refused:
        _admit(world, "c3")
    assert refused.value.detail["rule"] == "growth_not_approved"


def test_the_cap_is_never_exceeded(world):
    _customers(world, "c1", "c2", "c3", "c4", "c5")
    _admit(world, "c1", "c2")
    _approve(world, 4)
    _admit(world, "c3", "c4")
    mark = last_event_id()
    # when a fifth customer would exceed the policy's cap of 4
    with pytest.raises(Conflict) as refused:
        _admit(world, "c5")
    # then it is refused as cap_exceeded and nothing is written
    assert refused.value.detail["rule"] == "cap_exceeded"
    assert refused.value.detail["cap"] == 4
    assert events_since(mark) == []
    # and no approval can lift the cap
    with pytest.raises(Exception, match="step"):
        _approve(world, 6)


def test_a_batch_that_would_exceed_the_cap_admits_no_one(world):
    _customers(world, "c1", "c2", "c3", "c4", "c5")
    _approve(world, 4)
    with pytest.raises(Conflict) as refused:
        _admit(world, "c1", "c2", "c3", "c4", "c5")
    assert refused.value.detail["rule"] == "cap_exceeded"
    assert CohortMember.objects.count() == 0


def test_a_customer_whose_kyc_expired_is_not_admitted(world):
    made = customer(world.lab, world.manager.user, "c1", expires_in=timedelta(seconds=1))
    verify(made, world.manager.user, expires_in=timedelta(seconds=-1))  # now expired
    with pytest.raises(Conflict) as refused:
        _admit(world, "c1")
    assert refused.value.detail["rule"] == "kyc"
    assert "expired" in refused.value.detail["customers"]["c1"]


def test_kyc_below_the_required_level_or_revoked_is_not_enough(world):
    low = customer(world.lab, world.manager.user, "low", level="basic")
    revoked = customer(world.lab, world.manager.user, "gone")
    verify(revoked, world.manager.user, status="revoked")
    customer(world.lab, world.manager.user, "none", expires_in=None)
    with pytest.raises(Conflict) as refused:
        _admit(world, "low", "gone", "none")
    reasons = refused.value.detail["customers"]
    assert "below the required standard" in reasons["low"]
    assert "revoked" in reasons["gone"]
    assert reasons["none"] == "has no KYC record"
    assert low.pk
    assert CohortMember.objects.count() == 0


def test_another_labs_customers_cannot_be_admitted(world):
    customer(world.outsider.user.memberships.first().organization, world.outsider.user, "theirs")
    with pytest.raises(NotFound):
        _admit(world, "theirs")


def test_a_removal_is_an_event_and_the_customer_may_return_with_a_new_salt(world):
    _customers(world, "c1")
    first = _admit(world, "c1")[0]
    mark = last_event_id()
    cohort_remove(release_id=world.release.pk, stage=STAGE, external_id="c1",
                  reason="terms of service", actor=world.safety.user)
    assert events_since(mark) == ["cohort.member_removed"]
    removed = AuditEvent.objects.get(pk__gt=mark)
    assert removed.payload["leaf"] == first.leaf
    assert removed.payload["size"] == 0
    again = _admit(world, "c1")[0]
    assert again.leaf != first.leaf


def test_growth_approvals_are_checked_before_they_are_recorded(world):
    _customers(world, "c1")
    _admit(world, "c1")
    # a lab signer is not who the policy asks to approve growth
    from govflow.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        growth_statement(release=world.release, stage=STAGE, up_to=4, role="lab_signer",
                         decision="approve", comment="", actor=world.signer.user)
    # a statement replayed is refused
    statement = growth_statement(release=world.release, stage=STAGE, up_to=4,
                                 role="safety_officer", decision="approve", comment="",
                                 actor=world.safety.user)
    signed = signing.sign(statement, world.safety.key)
    verified, _ = act_verify(GROWTH_APPROVE, envelope=signed, actor=world.safety.user)
    act_record(GROWTH_APPROVE, verified, actor=world.safety.user)
    with pytest.raises(Conflict) as replayed:
        act_record(GROWTH_APPROVE, verified, actor=world.safety.user)
    assert replayed.value.detail["rule"] == "replayed"
    # someone else's key does not sign for the safety officer
    other = signing.sign(statement, world.signer.key)
    with pytest.raises(PermissionDenied, match="another person"):
        act_verify(GROWTH_APPROVE, envelope=other, actor=world.safety.user)
    assert GrowthApproval.objects.count() == 1
