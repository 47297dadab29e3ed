"""Eval-run services: start, store, complete, fail, resume; against a SIMULATED agent."""

from __future__ import annotations

import pytest

from govflow.core.digests import json_digest
from govflow.core.errors import Conflict, ValidationFailed
from govflow.evalruns.design import missing_keys, run_scenario
from govflow.evalruns.endpoints import get_endpoint
from govflow.evalruns.execution import execute_chunk, execute_inline
from govflow.evalruns.models import EvalRunStatus, EvalSample
from govflow.evalruns.services import (
    eval_run_complete,
    eval_run_fail,
    eval_run_plan,
    eval_run_resume,
    eval_run_start,
    eval_samples_store,
)
from tests.evalruns.support import CELL_HIGH, CELL_NONE, events, records, start

pytestmark = pytest.mark.django_db


def test_starting_a_run_records_it_with_one_event_and_queues_the_planner_after_commit(
    release, release_manager, sim, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        run = start(release, release_manager, samples=5, queue=True)

    assert (run.status, run.total_samples, run.cells) == ("queued", 10, [CELL_NONE, CELL_HIGH])
    [event] = events()
    assert event.event_type == "eval_run.started"
    assert event.payload["endpoint"] == {"name": "sim", "model": "govflow-simulator",
                                         "base_url": get_endpoint("sim").base_url}
    assert event.payload["scenario_digest"] == run.scenario_digest
    assert event.payload["manifest_digest"] == release.system_version.manifest_digest
    assert len(queued) == 1  # plan_eval_run, sent only once the transaction committed


@pytest.mark.parametrize("endpoint", [
    "http://169.254.169.254/latest/meta-data", "//evil.example/v1", "evil.example:80",
    "127.0.0.1:8900/v1",
])
def test_a_url_instead_of_an_endpoint_name_is_refused(release, release_manager, sim, endpoint):
    with pytest.raises(ValidationFailed) as refused:
        start(release, release_manager, endpoint=endpoint)

    assert refused.value.detail["fields"][0]["path"] == "endpoint"
    assert "URLs are not accepted" in refused.value.detail["fields"][0]["message"]
    assert events() == []


def test_an_unknown_endpoint_or_a_scenario_path_is_refused(release, release_manager, sim):
    with pytest.raises(ValidationFailed, match="no endpoint named 'gpt'"):
        start(release, release_manager, endpoint="gpt")
    with pytest.raises(ValidationFailed, match="no scenario"):
        eval_run_start(release_id=release.pk, scenario="/etc/passwd", factors=None,
                       samples_per_cell=1, endpoint="sim", judge_endpoint="sim",
                       actor=release_manager)
    with pytest.raises(ValidationFailed, match="unknown level"):
        start(release, release_manager, factors={"pressure": ["extreme"]})


def test_a_run_executes_completes_once_and_its_event_carries_the_summary_digest(
    release, release_manager, sim
):
    run = start(release, release_manager, samples=6)

    done = execute_inline(run_id=run.pk)
    again = eval_run_complete(run_id=run.pk)

    assert done.status == EvalRunStatus.COMPLETED
    assert again is None
    assert done.summary["simulated"] is True
    assert done.summary_digest == json_digest(done.summary)
    assert EvalSample.objects.filter(run=run).count() == 12
    started, completed = events()
    assert (started.event_type, completed.event_type) == ("eval_run.started",
                                                          "eval_run.completed")
    assert completed.payload["summary_digest"] == done.summary_digest
    assert completed.payload["samples_digest"] == done.samples_digest
    assert completed.payload["worst_cell"]["joint"]["cell"] in (CELL_NONE, CELL_HIGH)
    assert set(completed.payload["kappa"]) == {"report", "question"}


def test_a_sample_stored_twice_keeps_its_first_copy(release, release_manager, sim):
    run = start(release, release_manager, samples=2)
    first = records(CELL_NONE, 2)
    eval_samples_store(run_id=run.pk, records=first)
    changed = [dict(r, status="error") for r in first]

    eval_samples_store(run_id=run.pk, records=changed)

    rows = EvalSample.objects.filter(run=run)
    assert rows.count() == 2
    assert set(rows.values_list("status", flat=True)) == {"ok"}


def test_completion_waits_for_every_sample(release, release_manager, sim):
    run = start(release, release_manager, samples=2)
    eval_samples_store(run_id=run.pk, records=records(CELL_NONE, 2))

    assert eval_run_complete(run_id=run.pk) is None

    eval_samples_store(run_id=run.pk, records=records(CELL_HIGH, 2))
    assert eval_run_complete(run_id=run.pk).status == "completed"
    assert [e.event_type for e in events("eval_run.completed")] == ["eval_run.completed"]


def test_resume_runs_only_the_missing_samples(release, release_manager, sim):
    # given a run interrupted after its first chunk of 4 samples
    run = start(release, release_manager, samples=5)
    keys = [list(k) for k in missing_keys(run, run_scenario(run))]
    execute_chunk(run_id=run.pk, keys=keys[:4], concurrency=2)
    eval_run_fail(run_id=run.pk, reason="worker lost")
    before = {s.key: (s.pk, s.record_digest) for s in EvalSample.objects.filter(run=run)}

    # when it is resumed and its missing samples run
    eval_run_resume(run_id=run.pk, actor=release_manager)
    planned = eval_run_plan(run_id=run.pk)
    for chunk in planned:
        execute_chunk(run_id=run.pk, keys=chunk, concurrency=2)
    # (a chunk redelivered with every key asks the endpoint nothing more)
    requests = sim.requests
    redelivered = execute_chunk(run_id=run.pk, keys=keys, concurrency=2)
    done = eval_run_complete(run_id=run.pk)

    # then the first 4 samples are untouched, 6 more ran, and the run completed once
    assert len(before) == 4
    assert sorted(k for c in planned for k in c) == sorted(keys[4:])
    assert (redelivered.finished, sim.requests) == (0, requests)
    rows = EvalSample.objects.filter(run=run)
    assert rows.count() == 10
    assert {s.key: (s.pk, s.record_digest) for s in rows if s.key in before} == before
    assert done.status == "completed"
    assert [e.event_type for e in events()] == [
        "eval_run.started", "eval_run.failed", "eval_run.resumed", "eval_run.completed"]
    assert events("eval_run.resumed")[0].payload == {
        "run": run.pk, "from_status": "failed", "stored": 4, "missing": 6}


def test_a_completed_run_cannot_be_resumed(release, release_manager, sim):
    run = start(release, release_manager, samples=1)
    execute_inline(run_id=run.pk)

    with pytest.raises(Conflict, match="already completed"):
        eval_run_resume(run_id=run.pk, actor=release_manager)


def test_a_failed_run_fails_once(release, release_manager, sim):
    run = start(release, release_manager, samples=1)

    assert eval_run_fail(run_id=run.pk, reason="endpoint down") is True
    assert eval_run_fail(run_id=run.pk, reason="endpoint down") is False
    [failed] = events("eval_run.failed")
    assert failed.payload == {"run": run.pk, "reason": "endpoint down", "stored": 0,
                              "missing": 2}


def test_chunks_of_a_finished_run_run_nothing(release, release_manager, sim):
    run = start(release, release_manager, samples=1)
    eval_run_fail(run_id=run.pk, reason="stopped")
    requests = sim.requests

    outcome = execute_chunk(run_id=run.pk, keys=[[CELL_NONE, 0, 0]], concurrency=1)

    assert outcome.skipped == f"eval run {run.pk} is failed"
    assert sim.requests == requests


def test_samples_are_append_only(release, release_manager, sim):
    from django.db import DatabaseError, transaction

    run = start(release, release_manager, samples=1)
    eval_samples_store(run_id=run.pk, records=records(CELL_NONE, 1))

    with pytest.raises(DatabaseError), transaction.atomic():
        EvalSample.objects.filter(run=run).update(status="error")
    with pytest.raises(DatabaseError), transaction.atomic():
        EvalSample.objects.filter(run=run).delete()
