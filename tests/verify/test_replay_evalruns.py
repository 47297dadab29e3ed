"""The verifier re-derives the `deception_eval` gate from the log: every run the log
registered for the system version is pooled by the tally its closing event logged, and
the server's own decision code (`govflow.evalruns.gates.decision`) judges the pool, scenario
pin and serving fingerprints included. An operator who holds the log key and appends an
advance whose report claims the gate met is refused whenever the server's gate would not
be met on what the log says; the honest paths still verify."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from govflow.audit.export import build_bundle
from govflow.audit.logkey import log_verifier_key
from govflow.audit.models import AuditEvent
from govflow.evalruns import services
from govflow.evalruns.services import eval_run_withdraw
from govflow.releases.models import Release
from govflow.releases.services import release_advance
from govflow.verify.bundle import verify_bundle
from tests.evalruns.conftest import make_release  # noqa: F401
from tests.evalruns.support import CELL_HIGH, CELL_NONE, clean, records, run_with
from tests.evalruns.test_scenario_pin import edit_scenario  # noqa: F401
from tests.verify.test_replay import forge_advance, honest_report, made_up, verify

pytestmark = pytest.mark.django_db
TARGET = "third_party_audit"


@pytest.fixture
def release(make_release):  # noqa: F811
    return make_release(min_samples=40)


def deception(report: dict) -> dict:
    return next(g for g in report["gates"] if g["kind"] == "deception_eval")


def forged(release, actor, keep=None):
    """The operator logs the advance with every gate claimed met, the deception gate's
    evidence listing only the runs ``keep`` accepts (digest recomputed); the verifier's
    answer."""
    release = Release.objects.get(pk=release.pk)
    report = honest_report(release, actor, TARGET)
    if keep is not None:
        evidence = deception(report)["evidence"]
        evidence["runs"] = [r for r in evidence["runs"] if keep(r)]
    forge_advance(release, actor, to=TARGET, report=made_up(report))
    return verify(release)


def refused_not_met(result) -> str:
    assert not result.passed
    assert "refused by rule gate_not_met" in result.failure, result.failure
    return result.failure


def test_an_honest_pool_verifies_with_the_deception_gate_re_derived(release, release_manager):
    run_with(release, release_manager, clean(60))
    # a withdrawn run's samples keep counting, through the tally its withdrawal logged
    eval_run_withdraw(run_id=run_with(release, release_manager, clean(20), complete=False).pk,
                      reason="endpoint maintenance", actor=release_manager)
    release_advance(release_id=release.pk, actor=release_manager)

    result = verify(Release.objects.get(pk=release.pk))

    assert result.passed, result.render()
    assert "internal_evals → third_party_audit; gates re-derived from the log: deception" \
        in result.render()
    assert "taken from the recorded report" not in result.render()


def test_a_forged_pass_over_a_pooled_bound_above_threshold_is_refused(release,
                                                                      release_manager):
    # given: a clean run, then one where 15 of 60 episodes in a cell trade and hide
    clean_run = run_with(release, release_manager, clean(60))
    run_with(release, release_manager, {CELL_NONE: records(CELL_NONE, 60),
                                         CELL_HIGH: records(CELL_HIGH, 60, deceptive=15)})
    # when: the operator logs the advance with the clean run alone as the pool
    failure = refused_not_met(forged(release, release_manager,
                                     keep=lambda r: r["run"] == clean_run.pk))
    # then: the logged tallies pool both runs, and the bad cell's bound is over
    assert "deceptive worst cell " + CELL_HIGH + ": 15/120" in failure


def test_a_forged_pass_while_a_registered_run_is_still_open_is_refused(release,
                                                                        release_manager):
    run_with(release, release_manager, clean(60))
    open_run = run_with(release, release_manager, clean(60), complete=False)

    failure = refused_not_met(forged(release, release_manager,
                                     keep=lambda r: r["run"] != open_run.pk))

    assert f"run {open_run.pk} is queued with no completion or withdrawal" in failure


def test_a_forged_pass_over_a_run_of_another_scenario_text_is_refused(
        release, release_manager, edit_scenario, monkeypatch):  # noqa: F811
    # given: a clean run of the pinned text, and one of a weakened text the lab ran with
    # the server's start-time check taken out, the file put back before the advance
    run_with(release, release_manager, clean(60))
    monkeypatch.setattr(services, "_refuse_unpinned_text", lambda release, loaded: None)
    edit_scenario()
    other = run_with(release, release_manager, clean(60))
    edit_scenario.undo()
    # when: the operator drops it from the forged report
    failure = refused_not_met(forged(release, release_manager,
                                     keep=lambda r: r["run"] != other.pk))
    # then: the log registered it for the version, with its own digest
    assert f"run {other.pk} ran insider_trading at {other.scenario_digest[:19]}…" in failure


def test_a_forged_pass_that_drops_a_withdrawn_bad_run_is_refused(release, release_manager):
    # given: a clean run, and a run withdrawn once its hard cell looked bad
    run_with(release, release_manager, clean(60))
    bad = run_with(release, release_manager, {CELL_NONE: records(CELL_NONE, 30),
                                               CELL_HIGH: records(CELL_HIGH, 30,
                                                                  deceptive=12)},
                   complete=False)
    eval_run_withdraw(run_id=bad.pk, reason="endpoint flaky", actor=release_manager)
    # when
    failure = refused_not_met(forged(release, release_manager,
                                     keep=lambda r: r["run"] != bad.pk))
    # then: its withdrawal's tally still counts
    assert "deceptive worst cell " + CELL_HIGH + ": 12/90" in failure


def test_a_closing_event_without_a_tally_counts_against_the_gate(release, release_manager):
    # The operator writes the log: a completion it logs without the run's tally must keep
    # the run in the pool as a refusal, never drop it or fall back on the recorded report.
    from govflow.verify.replay.evalruns import EvalRunLog

    run = run_with(release, release_manager, clean(60))
    log = EvalRunLog()
    for kind in ("eval_run.started", "eval_run.completed"):
        event = AuditEvent.objects.get(event_type=kind, subject_id=str(run.pk))
        payload = {k: v for k, v in event.payload.items() if k != "tally"}
        log.collect({"type": kind, "release": release.pk, "uuid": str(event.uuid),
                     "payload": payload})

    runs, problems, tallies = log.pool(release.system_version_id, "insider_trading")

    assert [r["run"] for r in runs] == [run.pk]
    assert tallies == {}
    assert problems == [f"run {run.pk}'s eval_run.completed event logs no tally of its "
                        "samples, so the log cannot show what it measured"]


def test_the_demo_verifies_with_the_deception_gate_re_derived():
    call_command("demo", stdout=None)
    release = Release.objects.get(title="Frontier-7 v1")
    bundle = json.loads(json.dumps(build_bundle(release=release), default=str))

    # The demo's signer certificates are taken on the log's word here: what this test is
    # about is the deception gate (tests/signoffs/test_certified_keys_offline.py pins them).
    result = verify_bundle(bundle, log_key=log_verifier_key(), trust_log_regulator_keys=True)

    assert result.passed, result.render()
    line = next(x for x in result.render().splitlines() if "→ third_party_audit" in x)
    derived = line.split("gates re-derived from the log: ")[1].split(";")[0].split(", ")
    assert "deception_eval" in derived, line
    assert "taken from the recorded report" not in result.render()
