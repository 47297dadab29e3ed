"""Systems that learn online are re-evaluated on the policy's schedule while deployed; a
failed re-evaluation pauses the release, and so does one whose result never came."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from govflow.monitoring.models import Reevaluation
from govflow.monitoring.services import reevaluation_complete, reevaluation_schedule
from govflow.monitoring.tasks import tick
from govflow.releases.models import ReleaseStatus
from govflow.releases.services import release_advance
from govflow.rollout.services import cohort_admit
from tests.rollout.support import customer, digest, events_since, last_event_id, release_at


def _learner(world):
    """A deployed release (limited rollout) of a system that learns online."""
    release = release_at(world.lab, world.manager.user, "third_party_audit",
                         online_learning=True)
    customer(world.lab, world.manager.user, "cust-1")
    cohort_admit(release_id=release.pk, stage="limited_rollout", external_ids=["cust-1"],
                 actor=world.manager.user)
    release_advance(release_id=release.pk, actor=world.manager.user)
    release.refresh_from_db()
    return release


def _moved(monkeypatch, **delta):
    moved = timezone.now() + timedelta(**delta)
    monkeypatch.setattr(timezone, "now", lambda: moved)
    return moved


def test_a_learner_is_due_every_seven_days_once_deployed(world, monkeypatch):
    release = _learner(world)
    assert reevaluation_schedule(release_id=release.pk) is None  # not yet a week
    _moved(monkeypatch, days=7, minutes=1)
    mark = last_event_id()
    done = tick()
    assert done["reevaluations_scheduled"] == 1
    assert events_since(mark) == ["reevaluation.scheduled"]
    pending = Reevaluation.objects.get(release=release)
    assert pending.due_at - pending.scheduled_at == timedelta(days=2)
    assert tick()["reevaluations_scheduled"] == 0  # one pending at a time


def test_a_system_that_does_not_learn_online_is_never_scheduled(world, monkeypatch):
    release = release_at(world.lab, world.manager.user, "internal_evals")
    _moved(monkeypatch, days=30)
    assert reevaluation_schedule(release_id=release.pk) is None


def test_a_failed_reevaluation_pauses_the_release(world, monkeypatch):
    release = _learner(world)
    _moved(monkeypatch, days=8)
    pending = reevaluation_schedule(release_id=release.pk)
    mark = last_event_id()
    reevaluation_complete(reevaluation_id=pending.pk, passed=False,
                          evidence_digest=digest(b"eval run"), summary="deceives at 12%",
                          actor=world.safety.user)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.PAUSED
    assert events_since(mark) == ["reevaluation.completed", "release.paused"]


def test_a_passed_reevaluation_leaves_it_serving(world, monkeypatch):
    release = _learner(world)
    _moved(monkeypatch, days=8)
    pending = reevaluation_schedule(release_id=release.pk)
    safety = APIClient()
    safety.credentials(HTTP_AUTHORIZATION=f"Bearer {world.safety.token}")
    response = safety.post(f"/api/reevaluations/{pending.pk}/result", {
        "passed": True, "evidence_digest": digest(b"run"), "summary": "within bounds"},
        format="json")
    assert response.status_code == 200
    assert response.json()["result"] == "passed"
    release.refresh_from_db()
    assert release.status == ReleaseStatus.ACTIVE


def test_a_missed_deadline_counts_as_failed(world, monkeypatch):
    release = _learner(world)
    _moved(monkeypatch, days=8)
    reevaluation_schedule(release_id=release.pk)
    _moved(monkeypatch, days=11)
    done = tick()
    assert done["reevaluations_missed"] == 1
    release.refresh_from_db()
    assert release.status == ReleaseStatus.PAUSED
    assert Reevaluation.objects.get(release=release).result == "missed"


def test_only_the_labs_safety_officer_or_a_regulator_records_a_result(world, monkeypatch):
    release = _learner(world)
    _moved(monkeypatch, days=8)
    pending = reevaluation_schedule(release_id=release.pk)
    body = {"passed": True, "evidence_digest": digest(b"run"), "summary": "ok"}
    for person, expected in ((world.manager, 403), (world.outsider, 404)):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {person.token}")
        assert client.post(f"/api/reevaluations/{pending.pk}/result", body,
                           format="json").status_code == expected
