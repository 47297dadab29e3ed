"""The log asks a real witness process to cosign; a rewrite after a witnessed checkpoint is
refused by the witness, recorded, sent to the regulator, and caught by the verifier."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from govflow.audit import tasks
from govflow.audit.export import build_bundle
from govflow.audit.log import checkpoint_create
from govflow.audit.logkey import log_verifier_key
from govflow.audit.models import AuditEvent, Checkpoint, Cosignature
from govflow.audit.witnessing import checkpoint_witness
from govflow.monitoring.models import Notification
from govflow.verify.bundle import verify_bundle
from tests import factories
from tests.audit import tamper

pytestmark = pytest.mark.django_db


@pytest.fixture
def witness(log_witness):
    return log_witness


def busy_log(lab, release_manager, n: int = 2) -> None:
    for _ in range(n):
        factories.release(lab, release_manager)


def as_json(bundle):
    return json.loads(json.dumps(bundle, default=str))


def test_the_checkpoint_task_stores_a_cosignature_the_verifier_counts(
    witness, lab, release_manager
):
    # given
    busy_log(lab, release_manager)
    # when: two beats, with events in between
    first = tasks.checkpoint()
    busy_log(lab, release_manager, 1)
    second = tasks.checkpoint()
    # then
    assert second > first
    assert Cosignature.objects.filter(witness_key=witness.vkey).count() == 2
    bundle = as_json(build_bundle(release=None))
    assert len(bundle["checkpoints"][-1]["cosignatures"]) == 1
    report = verify_bundle(bundle, log_key=log_verifier_key(), witnesses=[witness.vkey],
                           quorum=1)
    assert report.passed, report.render()
    assert "quorum 1 met" in report.render()


def test_a_checkpoint_the_witness_already_cosigned_is_not_sent_again(
    witness, lab, release_manager
):
    busy_log(lab, release_manager)
    checkpoint = checkpoint_create()
    [first] = checkpoint_witness(checkpoint=checkpoint)
    witness.stop()  # were it asked again, it would be unreachable
    [again] = checkpoint_witness(checkpoint=checkpoint)
    assert (first.result, again.result) == ("cosigned", "cosigned")


def test_an_unreachable_witness_is_not_a_refusal(witness, lab, release_manager):
    busy_log(lab, release_manager)
    witness.stop()
    [outcome] = checkpoint_witness(checkpoint=checkpoint_create())
    assert outcome.result == "unreachable"
    assert not AuditEvent.objects.filter(event_type="witness.refused").exists()


def _rewrite_history(target: AuditEvent) -> None:
    """Edit an event, throw the tree and checkpoints away, let the log rebuild and re-sign."""
    tamper.drop_log_triggers()
    tamper.edit_event(target)
    tamper.discard_tree()


@pytest.mark.postgres
def test_a_rewrite_after_a_witnessed_checkpoint_is_refused_recorded_and_caught(
    witness, lab, release_manager, regulator
):
    # given: the witness cosigned the log
    busy_log(lab, release_manager)
    witnessed = tasks.checkpoint()
    assert Cosignature.objects.count() == 1
    target = AuditEvent.objects.order_by("id")[1]
    # when: the operator rewrites an early event and re-signs the rebuilt tree
    _rewrite_history(target)
    busy_log(lab, release_manager, 1)
    rewritten = checkpoint_create()
    outcomes = checkpoint_witness(checkpoint=rewritten)
    # then: the witness refused (it holds `witnessed`, which we no longer published)...
    assert [o.result for o in outcomes] == ["refused"]
    refusal = AuditEvent.objects.get(event_type="witness.refused")
    assert refusal.payload["status"] == 409
    assert refusal.payload["witness_size"] == witnessed
    assert Notification.objects.filter(kind="witness.refused",
                                       organization=regulator.memberships.first().organization
                                       ).exists()
    assert not Cosignature.objects.filter(checkpoint=rewritten).exists()
    # ...and a verifier that demands the witness's cosignature refuses the new history
    bundle = as_json(build_bundle(release=None))
    report = verify_bundle(bundle, log_key=log_verifier_key(), witnesses=[witness.vkey])
    assert not report.passed
    assert "fewer than the quorum of 1" in report.failure
    # and the refusal is recorded once, not at every beat
    checkpoint_witness(checkpoint=Checkpoint.objects.order_by("-size").first())
    assert AuditEvent.objects.filter(event_type="witness.refused").count() == 1


@pytest.mark.postgres
def test_a_fork_offered_to_the_witness_gets_409_and_is_recorded(witness, lab, release_manager,
                                                                regulator):
    # given: the witness cosigned size N
    busy_log(lab, release_manager)
    cosigned = tasks.checkpoint()
    console = Client()
    console.force_login(regulator)
    assert 'id="witness-refusal"' not in console.get(reverse("console:releases")).text
    # when: the operator swaps the newest event for another one of the same size
    newest = AuditEvent.objects.order_by("-id").first()
    _rewrite_history(newest)
    fork = checkpoint_create()
    assert fork.size == cosigned
    [outcome] = checkpoint_witness(checkpoint=fork)
    # then
    assert outcome.result == "refused"
    assert outcome.detail.startswith("409")
    assert AuditEvent.objects.filter(event_type="witness.refused",
                                     payload__status=409).exists()
    page = console.get(reverse("console:releases")).text
    assert 'id="witness-refusal"' in page
    assert f"regulator.example/witness refused checkpoint {fork.size} (HTTP 409" in page
