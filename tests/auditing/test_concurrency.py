"""Auditing under concurrency, on PostgreSQL with real commits: a finding cannot slip
past the conclusion that must list it, an envelope is recorded once however often it
is sent at the same moment, and one auditor is assigned once per round."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from govflow.auditing import acts
from govflow.auditing import predicates as statements
from govflow.auditing.models import Assignment, Conclusion, Finding
from govflow.core.errors import DomainError
from govflow.keys.acts import act_record
from tests.auditing.support import assign, finding_statement, release_json

pytestmark = [pytest.mark.postgres]


def run_together(*calls: Callable[[], object]) -> list[object]:
    """Run each call in its own thread, released at once; return results or exceptions."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def worker(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[index] = call()
        except BaseException as exc:  # noqa: BLE001 (reported to the test)
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive(), "a concurrent call did not finish (deadlock?)"
    return outcomes


def test_a_finding_filed_while_concluding_is_either_listed_or_refused(live_world):
    w = live_world
    finding = w.erin.verified(finding_statement(w.release), acts.FINDING_FILE)
    conclusion = w.erin.verified(statements.build_conclusion(
        release=release_json(w.release), engagement=w.assignment.pk, result="pass",
        summary="nothing found", findings=[]), acts.CONCLUSION_RECORD)

    filed, concluded = run_together(
        lambda: act_record(acts.FINDING_FILE, finding, actor=w.erin.user),
        lambda: act_record(acts.CONCLUSION_RECORD, conclusion, actor=w.erin.user),
    )

    # exactly one wins; never a conclusion that leaves out a finding of its engagement
    assert isinstance(filed, DomainError) != isinstance(concluded, DomainError), (filed,
                                                                                  concluded)
    if isinstance(concluded, Conclusion):
        assert filed.detail["rule"] == "not_assigned"
        assert not Finding.objects.exists()
    else:
        assert "leaves out finding(s)" in concluded.message
        assert not Conclusion.objects.exists()


def test_one_envelope_sent_four_times_at_once_is_one_finding(live_world):
    w = live_world
    verified = w.erin.verified(finding_statement(w.release), acts.FINDING_FILE)

    outcomes = run_together(*[
        lambda: act_record(acts.FINDING_FILE, verified, actor=w.erin.user) for _ in range(4)
    ])

    assert sum(isinstance(o, Finding) for o in outcomes) == 1
    assert {o.detail["rule"] for o in outcomes if isinstance(o, DomainError)} == {"replayed"}
    assert Finding.objects.count() == 1


def test_a_critical_finding_and_a_failed_conclusion_at_once_do_not_deadlock(live_world):
    w = live_world
    frank = assign(w.rita, w.release, w.frank)
    critical = w.erin.verified(finding_statement(w.release, severity="critical"),
                               acts.FINDING_FILE)
    fail = w.frank.verified(statements.build_conclusion(
        release=release_json(w.release), engagement=frank.pk, result="fail",
        summary="it deceives", findings=[]), acts.CONCLUSION_RECORD)

    outcomes = run_together(
        lambda: act_record(acts.FINDING_FILE, critical, actor=w.erin.user),
        lambda: act_record(acts.CONCLUSION_RECORD, fail, actor=w.frank.user),
    )

    # the first sends the release back and ends the round's engagements; the second
    # finds its engagement over (or lands first), never a deadlock
    w.release.refresh_from_db()
    assert w.release.stage == "internal_evals"
    assert sum(not isinstance(o, DomainError) for o in outcomes) >= 1, outcomes
    assert not Assignment.objects.filter(ended_at__isnull=True).exists()


def test_two_regulators_assigning_one_auditor_at_once_assign_once(live_world):
    w = live_world

    outcomes = run_together(lambda: assign(w.rita, w.release, w.frank),
                            lambda: assign(w.rita, w.release, w.frank))

    assert sum(isinstance(o, Assignment) for o in outcomes) == 1
    assert [o.detail["rule"] for o in outcomes if isinstance(o, DomainError)] == [
        "already_assigned"]
