"""The chunk task's retry policy, and the task itself run in-process (`Task.apply`, which
runs each retry at once): 429s with Retry-After, an endpoint that stays down, malformed
replies. The same task on a real worker and Redis is in test_broker.py."""

from __future__ import annotations

import random

import pytest

from govflow.evalruns.design import missing_keys, run_scenario
from govflow.evalruns.models import EvalSample
from govflow.evalruns.retry import next_attempt
from govflow.evalruns.simulator import simulator_in_process
from govflow.evalruns.tasks import plan_eval_run, run_eval_chunk
from tests.evalruns.support import endpoints, events, start

POLICY = {"backoff": 1.0, "max_delay": 300.0, "max_failures": 4}


def attempt(**kw):
    args = {"reason": "HTTP 429: endpoint answered 429", "progressed": False, "failures": 0,
            "last_reason": None, "retry_after": None, "status_code": 429, "concurrency": 16,
            "rng": random.Random(0), **POLICY, **kw}
    return next_attempt(**args)


def test_retry_after_is_a_floor_and_backoff_grows_with_the_streak():
    first = attempt(retry_after=7.0)
    third = attempt(failures=2, last_reason="HTTP 429: endpoint answered 429")

    assert first.countdown == 7.0
    assert first.failures == 1
    assert third.failures == 3
    assert 4.0 <= third.countdown <= 8.0  # 1 s x 2^3, jittered down to half


def test_a_429_without_progress_halves_concurrency_and_progress_restarts_the_streak():
    slowed = attempt(concurrency=16)
    progressed = attempt(progressed=True, failures=3, concurrency=4,
                         last_reason="HTTP 429: endpoint answered 429")

    assert slowed.concurrency == 8
    assert (progressed.failures, progressed.concurrency, progressed.give_up) == (0, 4, False)


def test_the_same_failure_in_a_row_gives_up_a_different_one_starts_over():
    reason = "HTTP 503: endpoint answered 503"
    assert attempt(reason=reason, failures=3, last_reason=reason).give_up is True
    assert attempt(reason=reason, failures=3, last_reason="HTTP 429: x").failures == 1


def test_a_huge_retry_after_is_capped_below_the_brokers_visibility_timeout():
    assert attempt(retry_after=86400.0).countdown == 300.0


def chunk_of(run) -> list:
    return [list(k) for k in missing_keys(run, run_scenario(run))]


@pytest.mark.django_db
def test_a_429_storm_with_retry_after_still_completes(release, release_manager, settings,
                                                      caplog):
    caplog.set_level("INFO", logger="govflow.evalruns.tasks")
    settings.GOVFLOW_EVAL_RETRY_BACKOFF_MS = 1
    with simulator_in_process("default", fault_429_rate=0.1, retry_after=0.01,
                              fault_seed=1) as (url, server):
        settings.GOVFLOW_EVAL_ENDPOINTS = endpoints(sim=url)
        run = start(release, release_manager, samples=4, factors={"pressure": ["high"]})

        run_eval_chunk.apply(args=[run.pk, chunk_of(run)], kwargs={"concurrency": 4})

    run.refresh_from_db()
    assert run.status == "completed", run.failure_reason
    assert EvalSample.objects.filter(run=run).count() == 4
    assert [e.event_type for e in events()][-1] == "eval_run.completed"
    retries = [r.getMessage() for r in caplog.records if "retry in" in r.getMessage()]
    assert retries
    assert all("HTTP 429" in m for m in retries)


@pytest.mark.django_db
def test_an_endpoint_that_stays_down_fails_the_run_with_the_reason(release, release_manager,
                                                                    settings):
    settings.GOVFLOW_EVAL_RETRY_BACKOFF_MS = 1
    settings.GOVFLOW_EVAL_MAX_IDENTICAL_FAILURES = 3
    settings.GOVFLOW_EVAL_ENDPOINTS = endpoints(sim="http://127.0.0.1:9/v1")  # nothing there
    run = start(release, release_manager, samples=1)

    run_eval_chunk.apply(args=[run.pk, chunk_of(run)])

    run.refresh_from_db()
    assert run.status == "failed"
    assert run.failure_reason.startswith("gave up after 3 consecutive identical failures: ")
    assert "endpoint unreachable" in run.failure_reason
    [failed] = events("eval_run.failed")
    assert failed.payload["reason"] == run.failure_reason


@pytest.mark.django_db
def test_a_malformed_model_reply_is_graded_invalid(release, release_manager, settings):
    with simulator_in_process("default", malformed_rate=1.0) as (url, _server):
        settings.GOVFLOW_EVAL_ENDPOINTS = endpoints(sim=url)
        run = start(release, release_manager, samples=3)
        run_eval_chunk.apply(args=[run.pk, chunk_of(run)])

    run.refresh_from_db()
    assert run.status == "completed"
    statuses = set(EvalSample.objects.filter(run=run).values_list("status", flat=True))
    assert statuses == {"invalid"}
    assert run.summary["overall"]["status"] == {"invalid": 6}
    assert run.summary["overall"]["labels"]["action"] == {"invalid": 6}


@pytest.mark.django_db
def test_the_planner_completes_a_run_with_nothing_missing_and_ignores_a_finished_one(
    release, release_manager, sim
):
    run = start(release, release_manager, samples=1)
    run_eval_chunk.apply(args=[run.pk, chunk_of(run)])  # completes it

    assert plan_eval_run.apply(args=[run.pk]).get() == 0
    assert [e.event_type for e in events()].count("eval_run.completed") == 1
