"""The sequencer's floor (govflow.audit.pending): it looks only above the floor, and the
floor never passes an event that has not committed yet, however the commits interleave."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from govflow.audit import log
from govflow.audit.models import AuditEvent, LogLeaf, LogState
from govflow.audit.pending import Window
from tests import factories

pytestmark = pytest.mark.django_db


def make_events(n: int) -> None:
    org = factories.organization()
    for _ in range(n):
        factories.person(org, "release_manager")


def unsequenced() -> list[int]:
    return list(AuditEvent.objects.filter(leaf__isnull=True).values_list("id", flat=True))


@pytest.mark.postgres
def test_an_event_that_commits_after_a_later_id_was_sequenced_is_still_sequenced(live_db):
    # given: a writer has drawn its event id and not committed; later ids commit and are
    # sequenced, over and over (every chance for the floor to rise past the open one)
    make_events(2)
    drawn, release = threading.Event(), threading.Event()
    held: list[int] = []

    def slow_writer():
        try:
            with transaction.atomic():
                org = factories.organization()
                held.append(AuditEvent.objects.filter(subject_id=str(org.pk),
                                                      event_type="organization.created")
                            .values_list("id", flat=True).get())
                drawn.set()
                release.wait(30)
        finally:
            connection.close()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert drawn.wait(30)
    for _ in range(4):
        make_events(2)
        log.log_integrate()
    state = LogState.objects.get(pk=1)
    assert state.floor_event < held[0], "the floor passed an id whose transaction is open"

    # when: the slow writer commits, and the sequencer runs again
    release.set()
    writer.join()
    size = log.log_integrate()

    # then: its event has a leaf like every other, and the leaves are 0..n-1
    assert unsequenced() == []
    assert size == AuditEvent.objects.count()
    assert sorted(LogLeaf.objects.values_list("index", flat=True)) == list(range(size))


@pytest.mark.postgres
def test_the_floor_rises_past_sequenced_and_rolled_back_ids(live_db):
    # given: events, and an id drawn by a transaction that rolled back (a gap for ever)
    make_events(3)
    def failing_change():
        with transaction.atomic():
            factories.organization()
            raise RuntimeError("the change fails after its event was written")

    with pytest.raises(RuntimeError):
        failing_change()
    make_events(2)
    highest = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()

    # when: the sequencer runs twice with no writer open (one run notes, the next proves)
    log.log_integrate()
    log.log_integrate()

    # then: the floor is at the highest id, so the next run reads nothing below it
    state = LogState.objects.get(pk=1)
    assert state.floor_event == highest
    assert unsequenced() == []


def test_a_discarded_tree_is_sequenced_again_from_the_first_event():
    # given: a sequenced log whose floor has risen
    make_events(3)
    log.log_integrate()
    log.log_integrate()
    assert LogState.objects.get(pk=1).floor_event > 0

    # when: the tree is thrown away (LogLeaf rows and the size; as tests/audit/tamper.py
    # does with the triggers off) — here by a fresh state row at size 0
    LogState.objects.filter(pk=1).update(size=0)
    window_floor = Window.open(LogState.objects.get(pk=1)).floor

    # then: the sequencer looks at the whole table again
    assert window_floor == 0
