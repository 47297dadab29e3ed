"""Two advances of one release at the same moment: the row lock lets exactly one through.

These need real commits seen across connections, so they run on PostgreSQL with
``live_db``; each thread has its own connection and closes it when done.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from govflow.audit.models import AuditEvent
from govflow.core.errors import Conflict, DomainError, GateNotMet, StaleVersion
from govflow.releases.models import StageTransition, TransitionKind
from govflow.releases.services import release_advance
from tests import factories

pytestmark = [pytest.mark.postgres]


def run_together(*calls: Callable[[], object]) -> list[object]:
    """Run each call in its own thread, released at once; return results or exceptions."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def worker(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[index] = call()
        except BaseException as exc:  # noqa: BLE001 (reported to the test, not swallowed)
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive(), "a concurrent advance did not finish (deadlock?)"
    return outcomes


@pytest.fixture
def ready_release(live_db):
    """A committed release whose gates for the next stage are met."""
    lab = factories.organization(kind="lab")
    manager = factories.person(lab, "release_manager")
    release = factories.release(lab, manager)
    factories.attach(release, manager)
    return release, manager


def advanced_events(release) -> int:
    return AuditEvent.objects.filter(release_id=release.pk, event_type="release.advanced").count()


def advances_of(release) -> int:
    return StageTransition.objects.filter(release=release, kind=TransitionKind.ADVANCE).count()


def test_two_simultaneous_advances_move_the_release_once(ready_release):
    # given a release ready to advance, and two callers
    release, manager = ready_release

    # when both advance it at the same moment
    outcomes = run_together(
        lambda: release_advance(release_id=release.pk, actor=manager),
        lambda: release_advance(release_id=release.pk, actor=manager),
    )

    # then one moved it, and the other, reading after the first committed, was refused
    # by the state it found: the next stage's gate (an hour's dwell) is not met
    winners = [o for o in outcomes if isinstance(o, StageTransition)]
    losers = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(winners) == 1, outcomes
    assert len(losers) == 1, outcomes
    assert isinstance(losers[0], (GateNotMet, Conflict, StaleVersion))
    assert winners[0].to_stage == "third_party_audit"
    release.refresh_from_db()
    assert (release.stage, release.version) == ("third_party_audit", 2)
    assert advanced_events(release) == advances_of(release) == 1


def test_two_advances_from_the_same_version_one_wins_one_is_stale(ready_release):
    # given two callers who both read version 1
    release, manager = ready_release

    # when both advance with expected_version=1 at the same moment
    outcomes = run_together(
        lambda: release_advance(release_id=release.pk, actor=manager, expected_version=1),
        lambda: release_advance(release_id=release.pk, actor=manager, expected_version=1),
    )

    # then the second to take the lock sees version 2 and is told to re-read
    assert sorted(type(o).__name__ for o in outcomes) == ["StageTransition", "StaleVersion"]
    stale = next(o for o in outcomes if isinstance(o, DomainError))
    assert stale.detail == {"current_version": 2}
    assert advanced_events(release) == advances_of(release) == 1


def test_two_api_advances_with_the_same_if_match_one_is_412(ready_release, api):
    # given two clients of the same release manager holding the same ETag
    release, manager = ready_release
    clients = [api(manager), api(manager)]
    url = f"/api/releases/{release.pk}/advance"

    def advance(client):
        return lambda: client.post(url, {}, format="json", HTTP_IF_MATCH=release.etag)

    # when both POST advance at the same moment
    responses = run_together(*(advance(c) for c in clients))

    # then one is 200 with the new ETag and the other 412
    assert sorted(r.status_code for r in responses) == [200, 412]
    winner = next(r for r in responses if r.status_code == 200)
    assert winner["ETag"] == f'"{release.pk}-2"'
    assert advanced_events(release) == advances_of(release) == 1
