"""A per-release bundle proves it holds every event of its release: deleting any of
them (the newest included) makes it fail, even when the operator also resets the
sequencer's own bookkeeping and goes on logging."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from govflow.audit import log
from govflow.audit.export import build_bundle
from govflow.audit.logkey import log_verifier_key
from govflow.audit.models import AuditEvent, ReleaseHead
from govflow.trust.release_chain import GENESIS, HEADS_EVENT, chain_step
from govflow.verify.bundle import verify_bundle
from tests import factories
from tests.verify.test_offline_verifier import _drop_log_triggers, busy_release

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def verify(release=None):
    return verify_bundle(json.loads(json.dumps(build_bundle(release=release), default=str)),
                         log_key=log_verifier_key())


def delete_event(event: AuditEvent) -> None:
    """What a superuser can do: remove the row and its leaf, leaving the tree's nodes
    (and so every other event's inclusion proof) as they were."""
    _drop_log_triggers()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_logleaf WHERE event_id = %s", [event.pk])
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])


def test_an_untouched_release_bundle_proves_it_is_complete(lab, release_manager):
    release = busy_release(lab, release_manager)
    log.checkpoint_create()
    factories.attach(release, release_manager, document_type="interpretability_report")

    report = verify(release)

    assert report.passed, report.render()
    held = AuditEvent.objects.filter(release_id=release.pk).count()
    assert f"release {release.pk}: all {held} of its events are in the bundle" in report.render()


@pytest.mark.parametrize("which", ["newest", "first", "middle"])
def test_deleting_any_event_of_a_release_fails_its_bundle(which, lab, release_manager):
    # given: a release whose events are all covered by a signed checkpoint
    release = busy_release(lab, release_manager)
    log.checkpoint_create()
    own = list(AuditEvent.objects.filter(release_id=release.pk).order_by("id"))
    victim = {"newest": own[-1], "first": own[0], "middle": own[len(own) // 2]}[which]

    # when: the operator deletes one of them
    delete_event(victim)
    report = verify(release)

    # then
    assert not report.passed
    assert f"events of release {release.pk} are missing" in report.failure


def test_deleting_the_newest_event_and_resetting_the_heads_still_fails(lab, release_manager):
    # given: the newest event of a release is covered by a checkpoint's heads event
    release = factories.release(lab, release_manager)
    factories.attach(release, release_manager)
    log.checkpoint_create()
    newest = AuditEvent.objects.filter(release_id=release.pk).order_by("-id").first()
    before = ReleaseHead.objects.get(pk=release.pk)
    # when: the operator deletes it, rewinds the sequencer's chain for the release as if
    # it had never been logged, and the release goes on (a later checkpoint's heads
    # event then agrees with the shortened chain)
    delete_event(newest)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_releasehead WHERE release_id = %s", [release.pk])
    first = AuditEvent.objects.filter(release_id=release.pk).order_by("id").first()
    ReleaseHead.objects.create(release_id=release.pk, count=before.count - 1,
                               head=chain_step(GENESIS, bytes.fromhex(first.leaf_hash)))
    factories.attach(release, release_manager, document_type="interpretability_report")
    log.checkpoint_create()

    # then: the earlier heads event, still in the tree and in the chain of heads, says
    # the release had one event more
    report = verify(release)
    assert not report.passed
    assert "are missing" in report.failure


def test_a_bundle_without_the_heads_events_fails(lab, release_manager):
    release = busy_release(lab, release_manager)
    bundle = json.loads(json.dumps(build_bundle(release=release), default=str))
    bundle["events"] = [e for e in bundle["events"] if HEADS_EVENT not in e["canonical"]]

    report = verify_bundle(bundle, log_key=log_verifier_key())

    assert not report.passed
    assert "does not end with a release-heads event" in report.failure


def test_the_full_export_checks_every_heads_event(lab, release_manager):
    busy_release(lab, release_manager)
    log.checkpoint_create()
    factories.release(lab, release_manager)
    log.checkpoint_create()

    report = verify()

    assert report.passed, report.render()
    assert "2 release-heads commitment(s) match every release's events" in report.render()
