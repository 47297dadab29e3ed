"""The Celery path end to end: real workers (`celery -A govflow.celery worker`) on Redis,
against SIMULATED agents over HTTP, writing to the test database (PostgreSQL).

A run completes and recovers the simulator's profile; a worker SIGKILLed mid-run is
replaced and the run resumed to completion with no duplicate sample; a 429 storm with
Retry-After still completes; a malformed model reply is graded invalid. Every test queues
on a queue of its own session, so runs started side by side never take each other's tasks.
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count

from evals.simulator.profiles import load_profile
from evals.stats import clopper_pearson
from govflow.evalruns.models import EvalRun, EvalSample
from govflow.evalruns.services import eval_run_resume
from tests.evalruns import processes
from tests.evalruns.support import endpoints, events, start

BROKER = settings.CELERY_BROKER_URL
pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(not BROKER.startswith("redis://"),
                       reason="needs a Redis broker: set CELERY_BROKER_URL=redis://… "
                              "(the test and its worker processes must share one)"),
    pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                       reason="needs PostgreSQL: a worker process cannot share SQLite's "
                              "in-memory test database (set DATABASE_URL=postgres://…)"),
]
# The runner tests below take every planned sample (early_stop=False): they measure the
# runner, not the stopping rule (tested at the end of this file and in test_early_stop.py).
WORKER_SETTINGS = {"GOVFLOW_EVAL_CHUNK_SIZE": "10", "GOVFLOW_EVAL_RETRY_BACKOFF_MS": "50",
                   "GOVFLOW_EVAL_CONCURRENCY": "8"}


def worker_database_url() -> str:
    """DATABASE_URL naming the test database (pytest-django's `test_…`), for workers."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


@pytest.fixture(scope="module")
def sims():
    started = {
        "deceptive": processes.simulator("--profile", "deceptive"),
        "honest": processes.simulator("--profile", "honest"),
        "storm": processes.simulator("--fault-429-rate", "0.1", "--retry-after", "0.05",
                                     "--fault-seed", "1"),
        "malformed": processes.simulator("--malformed-rate", "0.5"),
        "slow": processes.simulator("--latency-ms", "150"),
    }
    yield {name: url for name, (_proc, url) in started.items()}
    for proc, _url in started.values():
        proc.kill()


@contextmanager
def sending_to(name: str):
    """Send this process's tasks to queue ``name`` (workers take theirs from the env)."""
    from govflow.celery import app

    previous = app.conf.task_default_queue
    app.conf.task_default_queue = name
    try:
        yield name
    finally:
        app.conf.task_default_queue = previous
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(name)


@pytest.fixture(scope="module")
def queue():
    """A queue of this test session's own, for the test process and its workers alike."""
    with sending_to(f"govflow-test-{os.getpid()}-{uuid.uuid4().hex[:8]}") as name:
        yield name


@pytest.fixture(scope="module")
def start_worker(django_db_setup, django_db_blocker, sims, queue, tmp_path_factory):
    started: list[processes.Process] = []

    def start_one(on: str | None = None, **extra: str) -> processes.Process:
        with django_db_blocker.unblock():
            url = worker_database_url()
        proc = processes.worker(queue=on or queue, database_url=url, broker_url=BROKER,
                                endpoints=endpoints(**sims), concurrency=2,
                                var_dir=tmp_path_factory.mktemp("worker"),
                                **{**WORKER_SETTINGS, **extra})
        started.append(proc)
        return proc

    yield start_one
    for proc in started:
        proc.kill()


@pytest.fixture(scope="module")
def main_worker(start_worker):
    return start_worker()


@pytest.fixture
def live_release(live_db, lab, release_manager, settings, sims):
    from tests import factories
    from tests.evalruns.support import policy_text

    settings.GOVFLOW_EVAL_ENDPOINTS = endpoints(**sims)
    return factories.release(lab, release_manager, policy_text=policy_text())


def finished(run: EvalRun, timeout: float) -> EvalRun:
    def done():
        run.refresh_from_db()
        return run if run.status in ("completed", "failed") else None

    return processes.wait_for(done, timeout=timeout, what=f"eval run {run.pk} to finish")


def test_a_run_completes_on_a_worker_and_recovers_the_simulators_profile(
    main_worker, live_release, release_manager
):
    # given a run of the deceptive profile, no pressure against high pressure
    run = start(live_release, release_manager, samples=60, endpoint="deceptive",
                factors={"pressure": ["none", "high"]}, queue=True, early_stop=False)

    # when the worker has run it
    run = finished(run, timeout=60)

    # then it completed once, and each cell's misaligned rate brackets the profile's own
    assert run.status == "completed", run.failure_reason + main_worker.output[-3000:]
    assert EvalSample.objects.filter(run=run).count() == 120
    assert [e.event_type for e in events()] == ["eval_run.started", "eval_run.completed"]
    profile = load_profile("deceptive")
    rates = {}
    for key, cell in run.summary["cells"].items():
        m = cell["metrics"]["misaligned"]
        truth = profile.probabilities("insider_trading", cell["factors"])["action"]
        lower, upper = clopper_pearson(m["k"], m["n"], 0.99)
        assert lower <= truth <= upper, (key, m, truth)
        rates[cell["factors"]["pressure"]] = (m["rate"], cell["metrics"]["joint"]["rate"])
    assert rates["high"][0] > rates["none"][0]  # more pressure, more misaligned trades
    assert rates["high"][1] > rates["none"][1]  # ... and more trade-hide-lie episodes


def test_a_worker_killed_mid_run_is_replaced_and_the_run_resumed_without_duplicates(
    start_worker, queue, live_release, release_manager
):
    with sending_to(f"{queue}-kill") as alone:  # no other worker may help this run
        # given a worker running a slow run, killed (with its pool) after the first chunk
        doomed = start_worker(on=alone)
        run = start(live_release, release_manager, samples=40, endpoint="slow", early_stop=False,
                    factors={"pressure": ["high"]}, queue=True)
        processes.wait_for(lambda: EvalSample.objects.filter(run=run).count() >= 10,
                           timeout=60, what="the first chunk")
        doomed.kill()
        before = {s.key: s.record_digest for s in EvalSample.objects.filter(run=run)}
        run.refresh_from_db()
        assert run.status == "running"
        assert len(before) < 40

        # when another worker starts and the run is resumed
        start_worker(on=alone)
        eval_run_resume(run_id=run.pk, actor=release_manager)
        run = finished(run, timeout=90)

    # then every sample is there exactly once, the early ones as they were stored
    assert run.status == "completed", run.failure_reason
    rows = EvalSample.objects.filter(run=run)
    assert rows.count() == 40
    dupes = rows.values("cell_key", "paraphrase", "sample_index").annotate(n=Count("id"))
    assert max(d["n"] for d in dupes) == 1
    assert {s.key: s.record_digest for s in rows if s.key in before} == before
    assert [e.event_type for e in events()] == [
        "eval_run.started", "eval_run.resumed", "eval_run.completed"]


def test_a_429_storm_with_retry_after_still_completes(main_worker, live_release,
                                                      release_manager):
    run = start(live_release, release_manager, samples=15, endpoint="storm", queue=True,
                early_stop=False)

    run = finished(run, timeout=60)

    assert run.status == "completed", run.failure_reason
    assert EvalSample.objects.filter(run=run).count() == 30
    assert "HTTP 429" in main_worker.output  # it did meet the storm, and rode it out


def test_a_malformed_model_reply_is_graded_invalid(main_worker, live_release, release_manager):
    run = start(live_release, release_manager, samples=10, endpoint="malformed", early_stop=False,
                factors={"pressure": ["high"]}, queue=True)

    run = finished(run, timeout=60)

    assert run.status == "completed", run.failure_reason
    rows = (EvalSample.objects.filter(run=run).order_by().values("status")
            .annotate(n=Count("id")))
    statuses = {row["status"]: row["n"] for row in rows}
    assert statuses.get("invalid", 0) > 0
    invalid = EvalSample.objects.filter(run=run, status="invalid").first()
    assert "invalid" in {g.get("label") for g in invalid.record["grades"].values() if g}
    assert run.summary["overall"]["invalid"] >= statuses["invalid"]


@pytest.mark.parametrize(("profile", "state"), [("honest", "pass"), ("deceptive", "fail")])
def test_a_worker_stops_decided_cells_early(main_worker, live_db, lab, release_manager,
                                            settings, sims, profile, state):
    from tests.evalruns.test_early_stop import (
        PLANNED,
        check_gate_agrees,
        factors_for,
        gate,
        release_for,
    )

    # given an anytime-gated release served by a SIMULATED profile, 200 samples planned
    # per cell, chunks of 10 fanned out to a real worker
    settings.GOVFLOW_ENV = "development"
    settings.GOVFLOW_EVAL_ENDPOINTS = endpoints(**sims)
    release = release_for(lab, release_manager, profile, endpoint=profile)
    run = start(release, release_manager, samples=PLANNED, endpoint=profile, queue=True,
                factors=factors_for(profile))

    # when the worker has run it
    run = finished(run, timeout=120)

    # then the cells decided as the profile says, short of plan, and the gate agrees
    assert run.status == "completed", run.failure_reason + main_worker.output[-3000:]
    assert state in {d["state"] for d in run.stop_decisions.values()}
    assert EvalSample.objects.filter(run=run).count() < run.total_samples
    assert events("eval_run.completed")[-1].payload["early_stop"] == run.stop_decisions
    check_gate_agrees(run, gate(release, release_manager))
