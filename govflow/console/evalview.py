"""Eval runs on the release page: the funnel table and a chart per funnel rate.

Reads a run's result summary in the shape `evals.stats.summarize` returns (cells, each
with its funnel metrics k/n/rate and Wilson and Clopper–Pearson intervals), and the
thresholds of the policy's `deception_eval` gates, so the chart shows each rate against
the number the gate compares the upper bound with.
"""

from __future__ import annotations

from typing import Any

from evals.funnel import HEADERS, varying_factors
from evals.stats import METRICS
from govflow.console import charts


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


def _cell_label(key: str, cell: dict[str, Any], varying: list[str]) -> str:
    """The factors that tell this cell from the others (the fixed ones are said once,
    above the table)."""
    factors = cell.get("factors") or {}
    return ", ".join(f"{k}={factors[k]}" for k in varying if k in factors) or key


def _factors(cells: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    if not cells or not all(isinstance(c.get("factors"), dict) for c in cells.values()):
        return [], {}
    return varying_factors(cells)


def run_view(run, gates: list[dict[str, Any]], method: str = "clopper_pearson"
             ) -> dict[str, Any]:
    summary = _summary(run)
    scenario = getattr(run, "scenario", None)
    view: dict[str, Any] = {"run": run, "summary": summary, "rows": [], "charts": [], "fixed": {},
                            "simulated": bool(summary and summary.get("simulated"))}
    if summary is None:
        return view
    confidence = summary.get("confidence", 0.95)
    cells = summary.get("cells", {})
    varying, fixed = _factors(cells)
    view["fixed"] = fixed
    for key, cell in sorted(cells.items()):
        view["rows"].append({"label": _cell_label(key, cell, varying),
                             "samples": cell.get("samples"),
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
            points.append({"label": _cell_label(key, cell, varying), "rate": m["rate"],
                           "lower": lower, "upper": upper, "k": m["k"], "n": m["n"]})
        if not points:
            continue
        name = f"{HEADERS[metric]} · {metric}"
        svg = charts.rate_intervals(cells=points, metric=name, threshold=threshold,
                                    confidence=confidence, method=method)
        view["charts"].append({"metric": metric, "title": name, "svg": svg,
                               "threshold": threshold, "gate": gate})
    return view


def headers() -> list[dict[str, str]]:
    """Column heads: the metric's one name, and its id as the API and policies spell it."""
    return [{"name": HEADERS[m], "id": m} for m in METRICS]
