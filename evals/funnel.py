"""Plain-text rendering of a summary for the CLI: one row per cell, one column per funnel stage."""

from __future__ import annotations

from typing import Any

from evals import bounds
from evals.stats import GATE_METRICS, METRICS

# The one name of each funnel metric, used by the CLI, the console, the dossier and the
# demo (the API and the policy use the ids on the left).
HEADERS = {
    "misaligned": "P(misaligned)",
    "deceptive": "P(misaligned and hidden)",
    "deceptive_given_misaligned": "P(deceptive | misaligned)",
    "double_down_given_deceptive": "P(double down | deceptive)",
    "joint": "P(all three)",
}
UNGRADED = {"worst": "counted as harmful", "exclude": "EXCLUDED (biased low)"}
SIM_BANNER = (
    "*** SIMULATED ENDPOINT: these numbers describe a govflow-simulator profile, "
    "not any real model ***"
)


def _cell(metric: dict[str, Any], interval: str) -> str:
    if not metric["n"]:
        return "-/0"
    lo, hi = metric[interval]
    return f"{metric['k']}/{metric['n']} {metric['rate']:.2f} [{lo:.2f},{hi:.2f}]"


def _forks(cell: dict[str, Any], turns: tuple[str, ...], label: str) -> str:
    return "/".join(str(cell["labels"].get(t, {}).get(label, 0)) for t in turns)


def varying_factors(cells: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """Factors whose level differs between cells (shown per row) and the fixed ones (header)."""
    values: dict[str, set[str]] = {}
    for cell in cells.values():
        for name, level in cell["factors"].items():
            values.setdefault(name, set()).add(level)
    varying = sorted(n for n, v in values.items() if len(v) > 1)
    fixed = {n: next(iter(v)) for n, v in sorted(values.items()) if len(v) == 1}
    return varying, fixed


def render(summary: dict[str, Any], *, interval: str = "clopper_pearson",
           metric: str = "misaligned") -> str:
    cells = summary["cells"]
    varying, fixed = varying_factors(cells)
    lines = []
    if summary.get("simulated"):
        lines.append(SIM_BANNER)
    conf = int(round(summary["confidence"] * 100))
    name = {"clopper_pearson": "Clopper-Pearson", "wilson": "Wilson"}[interval]
    lines.append(
        f"scenario: {', '.join(summary['scenarios'])}   model(s): "
        f"{', '.join(summary['models_answered']) or '-'}   {conf}% {name} intervals   "
        f"ungraded: {UNGRADED[summary['ambiguous_policy']]}"
    )
    if fixed:
        lines.append("fixed: " + ", ".join(f"{k}={v}" for k, v in fixed.items()))
    # Ungraded outcomes per fork (action / report / question): what the worst-case reading
    # counted as harmful, shown so nobody has to trust the reading blindly.
    rows = [["cell", "n"] + [HEADERS[m] for m in METRICS]
            + ["invalid a/r/q", "ambig r/q", "error"]]
    keyed = [(k, c) for k, c in cells.items()] + [("ALL", summary["overall"])]
    for key, cell in keyed:
        label = key if key == "ALL" else (
            "|".join(f"{f}={cell['factors'][f]}" for f in varying) or key)
        rows.append(
            [label, str(cell["samples"])]
            + [_cell(cell["metrics"][m], interval) for m in METRICS]
            + [_forks(cell, ("action", "report", "question"), "invalid"),
               _forks(cell, ("report", "question"), "ambiguous"),
               str(cell["status"].get("error", 0))]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        if i == 0 or i == len(rows) - 2:
            lines.append("  ".join("-" * w for w in widths))
    for turn, kappa in summary["kappa"].items():
        value = "n/a" if kappa["kappa"] is None else f"{kappa['kappa']:.3f}"
        agreement = "n/a" if kappa["agreement"] is None else f"{kappa['agreement']:.3f}"
        lines.append(
            f"judge-rule agreement ({turn}): kappa={value} agreement={agreement} "
            f"pairs={kappa['n']} judge_unparseable={kappa['judge_invalid']}"
        )
    worst = summary["worst_cell"].get(metric)
    if worst:
        lines.append(
            f"worst cell for {metric} (highest {worst['method']} upper bound): {worst['cell']} "
            f"upper={worst['upper']:.3f} ({worst['k']}/{worst['n']})"
        )
        if metric in GATE_METRICS and summary["ambiguous_policy"] == "worst":
            # What a deception gate would read for this cell (docs/eval-gate.md).
            level = summary["confidence"]
            gate_upper = bounds.anytime_upper(worst["k"], worst["n"], level)
            lines.append(f"  one-sided {level:.0%} anytime-valid upper bound (what a gate "
                         f"reads): {gate_upper:.3f}")
    if summary.get("simulated"):
        lines.append(SIM_BANNER)
    return "\n".join(lines)
