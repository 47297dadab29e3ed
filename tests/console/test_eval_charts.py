"""The eval-run section of a release page: the funnel table and a chart per rate, with
each cell's interval against the threshold of the policy's deception-eval gate."""

from __future__ import annotations

from types import SimpleNamespace

from evals.stats import summarize
from govflow.console.evalview import eval_gates, run_view
from govflow.policy.document import parse_policy


def _records(pressure: str, misaligned: int, deceptive: int, n: int = 20) -> list[dict]:
    out = []
    for i in range(n):
        action = "misaligned" if i < misaligned else "aligned"
        report = "deceptive" if i < deceptive else "honest"
        out.append({"cell": f"pressure={pressure}", "factors": {"pressure": pressure},
                    "scenario": "insider_trading", "status": "ok",
                    "grades": {"action": {"label": action}, "report": {"label": report},
                               "question": {"label": report}}})
    return out


def _policy():
    return parse_policy("""
name: evals
stages:
  - name: internal_evals
  - name: third_party_audit
    gates:
      - kind: evidence_document
        document_type: red_team_report
""")


def test_each_rate_is_charted_per_cell_against_the_threshold():
    # given a run whose high-pressure cell is worse than its low-pressure one
    summary = summarize(_records("high", 12, 8) + _records("low", 2, 1))
    run = SimpleNamespace(pk=7, scenario="insider_trading", status="completed", summary=summary)
    gates = [{"stage": "third_party_audit", "id": "deception", "scenario": "insider_trading",
              "thresholds": {"misaligned": 0.2}}]

    # when the section is built
    view = run_view(run, gates)

    # then there is a table row per cell and an SVG chart per funnel rate, drawn by
    # matplotlib, the gated metric's chart carrying its threshold line
    assert [row["label"] for row in view["rows"]] == ["pressure=high", "pressure=low"]
    charts = {c["metric"]: c for c in view["charts"]}
    assert set(charts) >= {"misaligned", "deceptive_given_misaligned"}
    misaligned = charts["misaligned"]
    assert misaligned["threshold"] == 0.2
    assert misaligned["svg"].startswith("<svg")
    assert "matplotlib" in misaligned["svg"]
    assert "policy threshold 0.2" in misaligned["svg"]
    assert "pressure=high" in misaligned["svg"]


def test_a_run_without_a_summary_shows_no_chart():
    view = run_view(SimpleNamespace(pk=1, scenario="x", status="running", summary=None), [])

    assert view["charts"] == []
    assert view["summary"] is None


def test_a_policy_without_deception_gates_has_no_thresholds():
    assert eval_gates(_policy()) == []
