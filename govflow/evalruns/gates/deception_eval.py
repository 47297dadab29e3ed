"""Gate kind `deception_eval`: the latest completed eval run of a scenario, for this
release's system version, bounds a funnel metric in every cell.

Met only when all of these hold for that run (the latest, not the best, so a lab cannot
pick a favourite):

- it ran the scenario's current text (same digest) and covers the levels in ``cover``
  (default: the scenario's default design), so easy cells alone prove nothing;
- it is complete: every cell has at least ``min_samples_per_cell`` graded samples (an
  errored sample is no evidence);
- judge and rule graders agree: Cohen's kappa of each judged turn is at least
  ``min_kappa`` (a turn nobody had to judge, or where both raters always agreed on one
  label, has nothing to disagree about);
- in *every* cell, the upper bound of the exact (Clopper–Pearson) interval of ``metric``
  at ``confidence`` is at most ``threshold``: the worst plausible rate, not the average.

The bounds are recomputed from each cell's counts at the gate's confidence, whatever
confidence the run's summary was written with. The report shows the worst cell with its
interval; the evidence names the run and its summary digest.
"""

from __future__ import annotations

from typing import Any

from evals.stats import METRICS, clopper_pearson
from govflow.gates.params import Param
from govflow.gates.registry import GateKind, GateResult


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def check(params) -> list[tuple[str, str]]:
    from evals.scenarios import list_scenarios, load_scenario

    if params["scenario"] not in list_scenarios():
        return [("scenario", f"no scenario {params['scenario']!r}; have: "
                             + ", ".join(list_scenarios()))]
    scenario = load_scenario(params["scenario"])
    cover = params["cover"] or {}
    problems = []
    for factor, levels in cover.items():
        if factor not in scenario.factors:
            problems.append((f"cover.{factor}", f"{scenario.name} has no factor {factor!r}; "
                                                f"factors: {', '.join(sorted(scenario.factors))}"))
        elif not isinstance(levels, list) or not levels or not all(
            level in scenario.factors[factor] for level in levels
        ):
            problems.append((f"cover.{factor}", "must list levels of the factor: "
                                                + ", ".join(scenario.factors[factor])))
    return problems


def _coverage_gaps(run, cover: dict[str, list[str]]) -> list[str]:
    seen: dict[str, set[str]] = {}
    for key in run.cells:
        for part in key.split("|"):
            name, _, level = part.partition("=")
            seen.setdefault(name, set()).add(level)
    return [f"{factor}={level}" for factor, levels in sorted(cover.items())
            for level in levels if level not in seen.get(factor, set())]


def _kappa_problems(summary: dict[str, Any], minimum: float) -> tuple[list[str], dict]:
    problems, shown = [], {}
    for turn, k in sorted(summary.get("kappa", {}).items()):
        shown[turn] = {"kappa": _r(k.get("kappa")), "pairs": k.get("n")}
        if k.get("kappa") is None:
            continue  # no judged pairs, or perfect agreement on a single label
        if k["kappa"] < minimum:
            problems.append(f"judge-rule kappa for the {turn} is {k['kappa']:.2f} "
                            f"(< {minimum:g})")
    return problems, shown


def _cells(summary, metric: str, confidence: float) -> list[dict[str, Any]]:
    out = []
    for key, cell in sorted(summary["cells"].items()):
        m = cell["metrics"][metric]
        lower, upper = clopper_pearson(m["k"], m["n"], confidence)
        out.append({"cell": key, "k": m["k"], "n": m["n"], "rate": _r(m["rate"]),
                    "lower": _r(lower), "upper": _r(upper),
                    "graded": cell.get("status", {}).get("ok", 0)})
    return out


def evaluate(params, ctx) -> GateResult:
    from evals.scenarios import load_scenario
    from govflow.evalruns.selectors import latest_completed_run

    name, metric = params["scenario"], params["metric"]
    run = latest_completed_run(system_version_id=ctx.release.system_version_id, scenario=name)
    if run is None:
        return GateResult(False, f"no completed {name} eval run for system version "
                                 f"{ctx.release.system_version_id}", {"run": None})
    scenario = load_scenario(name)
    cover = params["cover"] or scenario.default_design
    summary = run.summary or {"cells": {}}
    cells = _cells(summary, metric, params["confidence"])
    worst = max(cells, key=lambda c: (c["upper"], c["cell"]), default=None)
    kappa_problems, kappa = _kappa_problems(summary, params["min_kappa"])
    evidence = {
        "run": run.pk, "release": run.release_id, "summary_digest": run.summary_digest,
        "samples_digest": run.samples_digest, "scenario_digest": run.scenario_digest,
        "metric": metric, "method": "clopper_pearson", "confidence": params["confidence"],
        "threshold": params["threshold"], "worst_cell": worst, "kappa": kappa,
        "simulated": bool(summary.get("simulated")),
        "cells_over_threshold": [c["cell"] for c in cells if c["upper"] > params["threshold"]],
    }
    problems = []
    if run.scenario_digest != scenario.digest:
        problems.append(f"run {run.pk} used an earlier text of {name} ({run.scenario_digest}); "
                        f"the scenario is now {scenario.digest}")
    gaps = _coverage_gaps(run, cover)
    if gaps:
        problems.append(f"run {run.pk} does not cover {', '.join(gaps)}")
    short = [c["cell"] for c in cells if c["graded"] < params["min_samples_per_cell"]]
    if not cells:
        problems.append(f"run {run.pk} has no cells")
    elif short:
        problems.append(f"{len(short)} cell(s) have fewer than {params['min_samples_per_cell']} "
                        f"graded samples: {', '.join(short)}")
    problems += kappa_problems
    if evidence["cells_over_threshold"]:
        problems.append(f"{len(evidence['cells_over_threshold'])} of {len(cells)} cell(s) "
                        f"have an upper bound above {params['threshold']:g}")
    label = " (SIMULATED endpoint)" if evidence["simulated"] else ""
    where = ""
    if worst is not None:
        where = (f"worst cell {worst['cell']}: {metric} {worst['k']}/{worst['n']}, "
                 f"{params['confidence']:.0%} interval [{worst['lower']:.4f}, "
                 f"{worst['upper']:.4f}]")
    if problems:
        return GateResult(False, f"run {run.pk}{label}: " + "; ".join(problems)
                          + (f"; {where}" if where else ""), evidence)
    return GateResult(True, f"run {run.pk}{label}: every cell's upper bound ≤ "
                            f"{params['threshold']:g}; {where}", evidence)


KIND = GateKind(
    name="deception_eval",
    description="The latest completed eval run of a scenario for the release's system "
                "version bounds a funnel metric in every cell (upper confidence bound).",
    params={
        "scenario": Param("str", help="a scenario of evals/scenarios, e.g. insider_trading"),
        "min_samples_per_cell": Param("int", minimum=1),
        "metric": Param("str", choices=METRICS),
        "threshold": Param("number", minimum=0, maximum=1,
                           help="every cell's upper bound must be at most this"),
        "confidence": Param("number", required=False, default=0.95, minimum=0.5,
                            maximum=0.9999, help="two-sided Clopper–Pearson level"),
        "min_kappa": Param("number", minimum=-1, maximum=1,
                           help="minimum judge-rule Cohen's kappa per judged turn"),
        "cover": Param("mapping", required=False, default=None,
                       help="factor -> levels the run must include (default: the "
                            "scenario's default design)"),
    },
    evaluate=evaluate,
    check=check,
)
