"""The verifier re-derives the `cohort` and `monitoring` gates from the log: an operator
who holds the log key and appends an advance whose report claims them met is refused
when the logged admissions, growth approvals, KYC records, sources and incidents say
otherwise; the honest rollout still verifies with both re-derived."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.monitoring.services import source_heartbeat, source_register
from govflow.releases.models import Release
from govflow.releases.services import release_advance
from govflow.rollout.services import cohort_admit
from tests import factories
from tests.monitoring.support import rolled_out
from tests.rollout.conftest import _fresh_caches, _tasks_run_in_process, make_world  # noqa: F401
from tests.rollout.support import customer
from tests.rollout.test_cohorts import _approve
from tests.verify.test_replay import forge_advance, honest_report, made_up, verify

pytestmark = pytest.mark.django_db
STAGE = "limited_rollout"


@pytest.fixture
def world(db):
    return make_world()


def forged(world, to: str, kind: str, evidence: dict | None = None):
    """The operator logs the advance to ``to`` with every gate claimed met (the ``kind``
    gate's evidence replaced, if given; digest recomputed); then the verifier's answer."""
    release = Release.objects.get(pk=world.release.pk)
    report = honest_report(release, world.manager.user, to)
    if evidence is not None:
        next(g for g in report["gates"] if g["kind"] == kind)["evidence"].update(evidence)
    forge_advance(release, world.manager.user, to=to, report=made_up(report))
    return verify(release)


def live_source(world):
    source = source_register(release_id=world.release.pk, name="abuse", kind="classifier",
                             actor=world.manager.user)
    source_heartbeat(source_id=source.pk)
    return source


def test_an_honest_rollout_verifies_with_cohort_and_monitoring_re_derived(world):
    # given: three customers, growth past the first step (2) approved in a signed statement
    _approve(world, 4)
    rolled_out(world, "c1", "c2", "c3")
    live_source(world)
    release_advance(release_id=world.release.pk, actor=world.manager.user)

    result = verify(Release.objects.get(pk=world.release.pk))

    assert result.passed, result.render()
    text = result.render()
    assert "third_party_audit → limited_rollout; gates re-derived from the log: cohort" in text
    assert ("limited_rollout → general_availability; gates re-derived from the log: "
            "monitoring") in text
    assert "taken from the recorded report" not in text


def test_a_forged_advance_with_an_empty_cohort_is_refused(world):
    result = forged(world, STAGE, "cohort", {"size": 1})

    assert not result.passed
    assert "refused by rule gate_not_met" in result.failure
    assert "the limited_rollout cohort has 0 member(s); at least 1 needed" in result.failure


def test_admissions_the_operator_logs_past_the_approved_step_are_refused(world):
    # given: two members admitted honestly (the first step); no growth approval
    for external_id in ("c1", "c2", "c3"):
        customer(world.lab, world.manager.user, external_id)
    [member] = cohort_admit(release_id=world.release.pk, stage=STAGE, external_ids=["c1"],
                            actor=world.manager.user)
    cohort_admit(release_id=world.release.pk, stage=STAGE, external_ids=["c2"],
                 actor=world.manager.user)
    # when: the operator logs a third admission past the step, around the service
    with transaction.atomic():
        audit_append(event_type=EventType.COHORT_MEMBER_ADMITTED, actor=world.manager.user,
                     subject=member, organization_id=world.lab.pk, release_id=world.release.pk,
                     payload={"cohort": member.cohort_id, "stage": STAGE, "customer": 999,
                              "leaf": "ab" * 32, "size": 3, "cap": 4, "cohort_version": 3})
    result = forged(world, STAGE, "cohort")

    # then
    assert not result.passed
    assert "refused by rule gate_not_met" in result.failure
    assert "the limited_rollout cohort has 3 members; signed approvals allow 2" in result.failure


def test_a_member_whose_logged_kyc_expired_before_the_advance_is_refused(world, monkeypatch):
    customer(world.lab, world.manager.user, "c1", expires_in=timedelta(days=1))
    cohort_admit(release_id=world.release.pk, stage=STAGE, external_ids=["c1"],
                 actor=world.manager.user)
    # the advance is logged two days later, its report claiming nobody lacks KYC
    later = timezone.now() + timedelta(days=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    result = forged(world, STAGE, "cohort", {"members_lacking_kyc": []})

    assert not result.passed
    assert "refused by rule gate_not_met" in result.failure
    assert "1 of 1 member(s) lack KYC in force at level standard" in result.failure


def test_a_forged_wider_release_past_an_open_high_incident_is_refused(world):
    rolled_out(world)
    live_source(world)
    # a monitoring source files a high incident with its machine token
    monitor = APIClient()
    monitor.credentials(HTTP_AUTHORIZATION="Bearer " + factories.machine_token_for(
        world.manager.user, world.release))
    filed = monitor.post("/api/incidents", {"release": world.release.pk, "severity": "high",
                                            "category": "misuse", "description": "fraud ring",
                                            "evidence_digests": []}, format="json")
    assert filed.status_code == 201, filed.content
    result = forged(world, "general_availability", "monitoring", {"open_incidents": []})

    assert not result.passed
    assert "refused by rule gate_not_met" in result.failure
    assert (f"open incident(s) at or above high: #{filed.json()['id']} high misuse"
            in result.failure)


def test_a_report_counting_a_source_the_log_never_registered_is_refused(world):
    rolled_out(world)
    result = forged(world, "general_availability", "monitoring",
                    {"sources": [{"id": 99, "name": "ghost", "kind": "classifier"}],
                     "live_sources": [99]})

    assert not result.passed
    assert "refused by rule gate_not_met" in result.failure
    assert "0 live monitoring source(s), 1 needed" in result.failure
