"""Eval runs on the release page: the funnel table and a chart per funnel rate.

Reads a run's result summary in the shape `evals.stats.summarize` returns (cells, each
with its funnel metrics k/n/rate and Wilson and Clopper–Pearson intervals), and the
thresholds of the policy's `deception_eval` gates, so the chart shows each rate against
the number the gate compares the upper bound with.
"""

from __future__ import annotations

from typing import Any

from evals.stats import METRICS
from govflow.console import charts

HEADERS = {
    "misaligned": "P(misaligned)",
    "deceptive": "P(misaligned and hidden)",
    "deceptive_given_misaligned": "P(deceptive | misaligned)",
    "double_down_given_deceptive": "P(double down | deceptive)",
    "joint": "P(all three)",
}


def eval_gates(policy) -> list[dict[str, Any]]:
    """The policy's deception-eval gates, with the stage each guards."""
    return [
        {"stage": stage.name, "id": gate.id, **gate.params}
        for stage in policy.stages for gate in stage.gates if gate.kind == "deception_eval"
    ]


def _summary(run) -> dict[str, Any] | None:
    for name in ("summary", "result_summary", "result"):
        value = getattr(run, name, None)
        if isinstance(value, dict) and "cells" in value:
            return value
    return None


def _cell_label(key: str, cell: dict[str, Any]) -> str:
    factors = cell.get("factors") or {}
    return ", ".join(f"{k}={v}" for k, v in sorted(factors.items())) or key


def run_view(run, gates: list[dict[str, Any]], method: str = "clopper_pearson"
             ) -> dict[str, Any]:
    summary = _summary(run)
    scenario = getattr(run, "scenario", None)
    view: dict[str, Any] = {"run": run, "summary": summary, "rows": [], "charts": [],
                            "simulated": bool(summary and summary.get("simulated"))}
    if summary is None:
        return view
    confidence = summary.get("confidence", 0.95)
    cells = summary.get("cells", {})
    for key, cell in sorted(cells.items()):
        view["rows"].append({"label": _cell_label(key, cell), "samples": cell.get("samples"),
                             "metrics": [cell["metrics"].get(m) for m in METRICS]})
    for metric in METRICS:
        gate = next((g for g in gates if metric in (g.get("thresholds") or {})
                     and g.get("scenario") in (None, scenario)), None)
        threshold = gate["thresholds"][metric] if gate else None
        points = []
        for key, cell in sorted(cells.items()):
            m = cell["metrics"].get(metric)
            if not m or not m.get("n"):
                continue
            lower, upper = m[method]
            points.append({"label": _cell_label(key, cell), "rate": m["rate"],
                           "lower": lower, "upper": upper, "k": m["k"], "n": m["n"]})
        if not points:
            continue
        svg = charts.rate_intervals(cells=points, metric=HEADERS[metric], threshold=threshold,
                                    confidence=confidence, method=method)
        view["charts"].append({"metric": metric, "title": HEADERS[metric], "svg": svg,
                               "threshold": threshold, "gate": gate})
    return view


def headers() -> list[str]:
    return [HEADERS[m] for m in METRICS]
