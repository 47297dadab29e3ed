"""Gate kind `deception_eval`, pooling: every registered run of the system version counts
(no rerun shopping), a run is in the log before its first sample, and a table that
disagrees with the log refuses the gate. Each test names the attack it stops."""

from __future__ import annotations

import pytest

from govflow.audit.models import AuditEvent
from govflow.core.errors import ValidationFailed
from govflow.evalruns.models import EvalRun, EvalSample
from govflow.evalruns.services import (
    eval_run_withdraw,
    eval_samples_store,
)
from govflow.releases.services import release_open
from tests.evalruns.support import (
    CELL_HIGH,
    CELL_NONE,
    clean,
    gate,
    levels_of,
    records,
    run_with,
    start,
)

pytestmark = pytest.mark.django_db


# Finding 5: rerun shopping.
def test_every_registered_run_is_pooled_not_just_the_latest(release, release_manager):
    bad = run_with(release, release_manager, {
        CELL_NONE: records(CELL_NONE, 40), CELL_HIGH: records(CELL_HIGH, 40, deceptive=12)})
    good = run_with(release, release_manager, clean(200))

    result = gate(release, release_manager)

    assert [r["run"] for r in result["evidence"]["runs"]] == [bad.pk, good.pk]
    high = {c["cell"]: c for c in result["evidence"]["metrics"]["deceptive"]["cells"]}[CELL_HIGH]
    assert (high["k"], high["n"]) == (12, 240)


def test_a_started_run_that_did_not_complete_counts_against_the_gate(
    release, release_manager
):
    run_with(release, release_manager, clean(60))
    open_run = run_with(release, release_manager, clean(10), complete=False)

    result = gate(release, release_manager)

    assert result["met"] is False
    assert (f"run {open_run.pk} is running (20 of 20 samples): a registered run counts "
            "against the gate until it completes or is withdrawn") in result["reason"]


def test_a_withdrawn_run_needs_a_reason_and_its_samples_still_count(release, release_manager):
    run_with(release, release_manager, clean(60))
    bad = start(release, release_manager, samples=80, factors=levels_of(clean()))
    eval_samples_store(run_id=bad.pk, records=records(CELL_HIGH, 30, deceptive=10))

    with pytest.raises(ValidationFailed, match="say why the run is withdrawn"):
        eval_run_withdraw(run_id=bad.pk, reason="  ", actor=release_manager)
    eval_run_withdraw(run_id=bad.pk, reason="wrong temperature", actor=release_manager)

    result = gate(release, release_manager)
    high = {c["cell"]: c for c in result["evidence"]["metrics"]["deceptive"]["cells"]}[CELL_HIGH]
    assert (high["k"], high["n"]) == (10, 90)
    assert result["met"] is False
    event = AuditEvent.objects.get(event_type="eval_run.withdrawn")
    assert event.payload["reason"] == "wrong temperature"
    assert event.payload["stored"] == 30


def test_every_run_is_registered_in_the_log_before_its_first_sample(release, release_manager):
    run = start(release, release_manager, samples=5, factors=levels_of(clean()))

    event = AuditEvent.objects.get(event_type="eval_run.started", subject_id=str(run.pk))
    assert not EvalSample.objects.filter(run=run).exists()
    assert event.payload["planned_samples"] == 10
    assert event.payload["cells"] == [CELL_HIGH, CELL_NONE]
    assert event.payload["scenario_digest"] == run.scenario_digest


def test_a_registered_run_missing_from_the_table_refuses_the_gate(release, release_manager):
    run_with(release, release_manager, clean(60))
    hidden = start(release, release_manager, samples=5, factors=levels_of(clean()))
    # the operator deletes the row of a run it regrets starting (as a superuser could)
    EvalRun.objects.filter(pk=hidden.pk).delete()

    result = gate(release, release_manager)

    assert result["met"] is False
    assert f"run {hidden.pk} is registered in the audit log" in result["reason"]
    assert "missing from the database" in result["reason"]


def test_a_run_moved_to_another_release_in_the_table_still_counts(
    release, release_manager, make_release
):
    bad = run_with(release, release_manager, {
        CELL_NONE: records(CELL_NONE, 60), CELL_HIGH: records(CELL_HIGH, 60, deceptive=20)})
    run_with(release, release_manager, clean(60))
    elsewhere = make_release()
    EvalRun.objects.filter(pk=bad.pk).update(release=elsewhere)

    result = gate(release, release_manager)

    assert bad.pk in [r["run"] for r in result["evidence"]["runs"]]
    assert result["met"] is False


def test_samples_that_differ_from_the_logged_digest_refuse_the_pool(release, release_manager):
    run = run_with(release, release_manager, clean(60))
    sample = EvalSample.objects.filter(run=run).first()
    # a superuser operator drops the append-only trigger (inside this test's transaction,
    # which rolls it back) and rewrites a harmful record as a harmless one
    from django.db import connection

    from govflow.audit.dbtriggers import uninstall_sql

    with connection.cursor() as cursor:
        for statement in uninstall_sql(connection.vendor, "evalruns_evalsample"):
            cursor.execute(statement)
    changed = dict(sample.record, grades={"action": {"label": "aligned"}}, seed=-1)
    EvalSample.objects.filter(pk=sample.pk).update(record=changed)

    result = gate(release, release_manager)

    assert result["met"] is False
    assert "stored samples do not match the samples digest" in result["reason"]


def test_runs_count_per_system_version(lab, release_manager, release, make_release):
    sibling = release_open(system_version=release.system_version, policy_version=release.policy,
                           title="sibling", actor=release_manager)
    run_with(sibling, release_manager, clean(60))
    other = make_release()

    assert gate(release, release_manager)["met"] is True
    assert gate(other, release_manager)["met"] is False
