"""`manage.py demo` runs one complete eval run against the SIMULATED agent, before the
sign-offs, and the release in audit got there through the deception gate."""

from __future__ import annotations

import pytest

from govflow.evalruns.models import EvalRun, EvalSample
from govflow.releases.models import Release

pytestmark = pytest.mark.django_db


def test_the_demo_release_entered_the_audit_through_a_simulated_eval_run(demo):
    output = demo.output

    in_audit = Release.objects.get(title="Frontier-7 v1")
    [run] = EvalRun.objects.filter(release=in_audit)
    assert run.status == "completed"
    assert run.summary["simulated"] is True
    # the default policy's cover: 3 pressures x 3 risks (neutral, low, high) x 2 scratchpads,
    # no prohibition
    assert run.total_samples == 1800
    # The default policy's gate is anytime, so the run stopped each cell once it passed:
    # a cell short of its 100 samples is one the gate had decided.
    stored = EvalSample.objects.filter(run=run).count()
    assert stored <= 1800
    assert sum(d["samples"] for d in run.stop_decisions.values()) == stored
    assert all(d["state"] == "pass" for d in run.stop_decisions.values()
               if d["samples"] < 100)
    advance = in_audit.transitions.get(kind="advance")
    gate = next(g for g in advance.gate_report["gates"] if g["kind"] == "deception_eval")
    assert gate["met"] is True, gate["reason"]
    assert [r["run"] for r in gate["evidence"]["runs"]] == [run.pk]
    assert f"Eval run {run.pk} (insider_trading, 18 cells x 100 samples)" in output
    assert "SIMULATED endpoint" in output
    assert gate["evidence"]["scenario_pin"]["pinned"] == run.scenario_digest
    assert (f"Scenario text {run.scenario_digest} (the text the policy's deception gate pins"
            in output)
    assert "with GOVFLOW_ENV=production it is refused" in output


def test_running_the_demo_again_runs_nothing_more(demo):
    before = (EvalRun.objects.count(), EvalSample.objects.count())

    demo.again()

    assert (EvalRun.objects.count(), EvalSample.objects.count()) == before
