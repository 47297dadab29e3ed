"""`GET /api/access/check`: allow or deny with the reason, for the serving gateway; cached,
and changed the moment a release moves or a customer is removed or loses KYC."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from govflow.audit.events import EventType
from govflow.audit.models import AuditEvent
from govflow.auditing.services import assignment_end
from govflow.releases.services import release_advance, release_rollback, release_set_status
from govflow.rollout.services import cohort_admit, cohort_remove, kyc_expire
from govflow.rollout.tasks import expire_kyc
from tests import factories
from tests.auditing.support import assign, certify
from tests.auditing.support import person as auditing_person
from tests.rollout.support import AUDITED_POLICY, customer, release_at, verify


@pytest.fixture
def world(live_world):
    # Committed for real: invalidation runs after commit, as in production.
    return live_world


def check(who, release_id, **params) -> tuple[int, dict]:
    client = APIClient()
    if who is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {who.token}")
    response = client.get("/api/access/check", {"release": release_id, **params})
    return response.status_code, response.json()


def _rolled_out(world, *ids, **kyc):
    """The release in limited_rollout with ``ids`` in its cohort."""
    for external_id in ids:
        customer(world.lab, world.manager.user, external_id, **kyc)
    cohort_admit(release_id=world.release.pk, stage="limited_rollout", external_ids=list(ids),
                 actor=world.manager.user)
    release_advance(release_id=world.release.pk, actor=world.manager.user)


def test_a_member_with_kyc_is_allowed_and_the_answer_is_then_cached(world):
    _rolled_out(world, "cust-1")
    status, first = check(world.manager, world.release.pk, customer="cust-1")
    assert status == 200
    assert first["allow"] is True
    assert first["stage"] == "limited_rollout"
    assert "KYC standard valid until" in first["reason"]
    assert first["cached"] is False
    _, second = check(world.manager, world.release.pk, customer="cust-1")
    assert second["allow"] is True
    assert second["cached"] is True


@pytest.mark.parametrize(("who", "expected"), [("stranger", "not in the limited_rollout cohort"),
                                               ("nobody", "no such customer of the lab")])
def test_others_are_denied_with_the_reason(world, who, expected):
    _rolled_out(world, "cust-1")
    if who == "stranger":
        customer(world.lab, world.manager.user, "stranger")
    _, answer = check(world.manager, world.release.pk, customer=who)
    assert answer["allow"] is False
    assert answer["reason"] == expected


def test_before_the_rollout_stage_nobody_is_allowed_yet(world):
    customer(world.lab, world.manager.user, "cust-1")
    cohort_admit(release_id=world.release.pk, stage="limited_rollout", external_ids=["cust-1"],
                 actor=world.manager.user)
    _, answer = check(world.manager, world.release.pk, customer="cust-1")
    assert answer["allow"] is False
    assert answer["reason"] == "third_party_audit: not released to customers"


def test_a_removal_is_refused_at_once_even_after_an_allow_was_cached(world):
    _rolled_out(world, "cust-1")
    assert check(world.manager, world.release.pk, customer="cust-1")[1]["allow"] is True
    cohort_remove(release_id=world.release.pk, stage="limited_rollout", external_id="cust-1",
                  reason="abuse", actor=world.safety.user)
    _, answer = check(world.manager, world.release.pk, customer="cust-1")
    assert answer["allow"] is False
    assert answer["cached"] is False


@pytest.mark.parametrize("move", ["pause", "halt", "rollback"])
def test_pause_halt_and_rollback_are_refused_at_once(world, move):
    _rolled_out(world, "cust-1")
    assert check(world.manager, world.release.pk, customer="cust-1")[1]["allow"] is True
    if move == "rollback":
        release_rollback(release_id=world.release.pk, target="third_party_audit", reason="x",
                         actor=world.manager.user)
    else:
        event = EventType.RELEASE_PAUSED if move == "pause" else EventType.RELEASE_HALTED
        release_set_status(release_id=world.release.pk, move=event, reason="x",
                           actor=world.manager.user)
    _, answer = check(world.manager, world.release.pk, customer="cust-1")
    assert answer["allow"] is False
    assert answer["cached"] is False


def test_an_allow_never_outlives_the_kyc_it_rests_on(world, monkeypatch):
    _rolled_out(world, "cust-1", expires_in=timedelta(hours=1))
    assert check(world.manager, world.release.pk, customer="cust-1")[1]["allow"] is True
    # when the record expires, before the beat task has processed it
    later = timezone.now() + timedelta(hours=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    monkeypatch.setattr("govflow.rollout.cache.time.time", lambda: later.timestamp())
    _, answer = check(world.manager, world.release.pk, customer="cust-1")
    # then the cached allow is not served and the check says why
    assert answer["allow"] is False
    assert "KYC expired" in answer["reason"]


def test_processing_an_expiry_invalidates_and_is_logged_once(world, monkeypatch):
    made = customer(world.lab, world.manager.user, "cust-1", expires_in=timedelta(hours=1))
    cohort_admit(release_id=world.release.pk, stage="limited_rollout", external_ids=["cust-1"],
                 actor=world.manager.user)
    release_advance(release_id=world.release.pk, actor=world.manager.user)
    assert check(world.manager, world.release.pk, customer="cust-1")[1]["allow"] is True
    # when beat processes the expiry (twice: it is idempotent)
    later = timezone.now() + timedelta(hours=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    record = made.kyc_records.get()
    mark = AuditEvent.objects.order_by("-id").first().pk
    assert expire_kyc() == 1
    assert expire_kyc() == 0
    # then one event names the cohorts the customer is in, and the check refuses afresh
    expired = AuditEvent.objects.get(pk__gt=mark)
    assert expired.event_type == "kyc.expired"
    assert expired.payload["record"] == record.pk
    assert len(expired.payload["cohorts"]) == 1
    _, answer = check(world.manager, world.release.pk, customer="cust-1")
    assert answer["allow"] is False
    assert answer["cached"] is False
    assert kyc_expire(record_id=record.pk, now=later) is None
    # and a renewed verification lets the customer in again
    verify(made, world.manager.user)
    assert check(world.manager, world.release.pk, customer="cust-1")[1]["allow"] is True


def test_general_availability_is_open(world):
    _rolled_out(world, "cust-1")
    from govflow.monitoring.services import source_heartbeat, source_register

    source = source_register(release_id=world.release.pk, name="abuse", kind="classifier",
                             actor=world.manager.user)
    source_heartbeat(source_id=source.pk)
    release_advance(release_id=world.release.pk, actor=world.manager.user)
    _, answer = check(world.manager, world.release.pk, customer="anyone-at-all")
    assert answer["allow"] is True
    assert answer["reason"] == "general_availability: generally available"


def test_assigned_auditors_access_grants_are_on_the_allowlist(world):
    # given a release in its audit stage, with an auditor assigned by the regulator
    release = release_at(world.lab, world.manager.user, "third_party_audit",
                         policy_text=AUDITED_POLICY)
    firm = factories.organization(kind="auditor")
    erin = auditing_person(firm, "auditor")
    certify(world.regulator, firm)
    assignment = assign(world.regulator, release, erin)
    # then the auditor's grant lets them in, and nobody else
    _, allowed = check(world.manager, release.pk, auditor=erin.user.username)
    assert allowed["allow"] is True
    assert allowed["reason"].startswith("assigned auditor")
    _, denied = check(world.manager, release.pk, auditor="someone-else")
    assert denied["allow"] is False
    # and once the regulator ends the engagement, the grant no longer does
    assignment_end(assignment_id=assignment.pk, note="done", actor=world.regulator.user)
    assert check(world.manager, release.pk, auditor=erin.user.username)[1]["allow"] is False


def test_regulators_may_ask_other_labs_get_404_and_strangers_401(world):
    _rolled_out(world, "cust-1")
    assert check(world.regulator, world.release.pk, customer="cust-1")[0] == 200
    # the cached answer is not a way around the check either
    assert check(world.outsider, world.release.pk, customer="cust-1")[0] == 404
    assert check(world.outsider, 999_999, customer="cust-1")[0] == 404
    assert check(None, world.release.pk, customer="cust-1")[0] == 401


@pytest.mark.parametrize("params", [{"customer": "bad id with spaces"}, {},
                                    {"customer": "a", "auditor": "b"}])
def test_bad_parameters_are_400_with_the_field(world, params):
    status, body = check(world.manager, world.release.pk, **params)
    assert status == 400
    assert body["fields"][0]["path"] in ("customer", "release")
    assert check(world.manager, "x", customer="a")[0] == 400
