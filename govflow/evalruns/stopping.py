"""Stopping an eval run's cells early, by the rule the deception gate itself applies.

A run with early stopping carries, from its start, the parameters of every `deception_eval`
gate of its release's policy for its scenario (`rules_for`). Between chunks it pools the
samples the gate would pool for the system version (`govflow.evalruns.pooling`), reads each
cell through the gate's own per-cell decision (`gates.cells.cell_decisions`), and gives no
more samples to a cell decided under every one of those gates: passed (upper bound under the
threshold for every gated metric) or failed (a lower bound over one). The run completes when
every cell is decided or has its planned samples.

This is honest only under the anytime-valid bound: a confidence sequence holds at every
sample size at once, so stopping when it decides cannot raise the false-pass probability.
The fixed-n exact bound holds only at the planned size, so a run whose policy uses it may
not stop early (refused at start; and the gate refuses fixed_n on a run cut short).
"""

from __future__ import annotations

from typing import Any

from evals import stats
from govflow.core.errors import DomainError, field_error
from govflow.evalruns.gates import cells as cellcheck
from govflow.evalruns.gates.pinning import check_pin

GATE_KIND = "deception_eval"
RULE_KEYS = ("thresholds", "confidence", "bound", "min_samples_per_cell", "max_invalid_share",
             "scenario_digest")


def _refuse(message: str) -> DomainError:
    return field_error("early_stop", message)


def policy_gates(release, scenario: str) -> list[dict[str, Any]]:
    """The parameters of every deception gate of the release's policy for ``scenario``."""
    from govflow.policy.selectors import policy_of

    return [gate.params for stage in policy_of(release.policy).stages for gate in stage.gates
            if gate.kind == GATE_KIND and gate.params.get("scenario") == scenario]


def rules_for(release, scenario: str) -> list[dict[str, Any]]:
    """The per-cell rule of every deception gate of the release's policy for ``scenario``."""
    rules: list[dict[str, Any]] = []
    for params in policy_gates(release, scenario):
        rule = {key: params.get(key) for key in RULE_KEYS}
        if rule not in rules:
            rules.append(rule)
    return rules


def resolve(release, scenario: str, requested: bool | None) -> list[dict[str, Any]] | None:
    """The rules a new run stops its cells by, or None for a run read at its planned size.

    ``requested`` None: on when the policy gates the scenario with the anytime bound only.
    True: required, refused when there is no such gate or any of them uses fixed_n."""
    if requested is False:
        return None
    rules = rules_for(release, scenario)
    fixed = [r for r in rules if r["bound"] != "anytime"]
    if requested is None:
        return rules if rules and not fixed else None
    if not rules:
        raise _refuse(f"the release's policy has no {GATE_KIND} gate for {scenario}, so "
                      "there is no rule to stop a cell by")
    if fixed:
        raise _refuse("the policy's deception gate uses the fixed_n bound, which holds only "
                      "at the planned sample size; stopping a cell early would invalidate it "
                      "(use bound: anytime, or run at the planned size)")
    return rules


def decisions(run) -> dict[str, dict[str, Any]]:
    """cell -> {state: pass | fail | open, pooled: samples pooled, by_gate: [state, ...]}
    for each cell of the run, over every sample the gate would pool for the version."""
    from evals.scenarios import load_scenario
    from govflow.evalruns.pooling import pool_runs

    pool = pool_runs(system_version_id=run.release.system_version_id, scenario=run.scenario)
    scenario = load_scenario(run.scenario)
    by_gate = []
    summaries: dict[str | None, dict[str, Any]] = {}
    for rule in run.early_stop or []:
        pinned = rule.get("scenario_digest")
        if pinned not in summaries:
            # The samples the gate would bound: of its pinned text only (a rule recorded
            # before pins existed pools them all). Counts do not depend on the summary's
            # confidence; the rule's own level is applied by the per-cell decision.
            records = pool.records if pinned is None else check_pin(
                pinned=pinned, scenario=scenario, runs=pool.runs,
                records_by_run=pool.by_run).records
            summaries[pinned] = stats.summarize(records, ambiguous="worst")
        by_gate.append(cellcheck.cell_decisions(summaries[pinned], rule))
    summary = (next(iter(summaries.values())) if summaries
               else stats.summarize(pool.records, ambiguous="worst"))
    out: dict[str, dict[str, Any]] = {}
    for cell in run.cells:
        states = [d.get(cell, "open") for d in by_gate]
        pooled = summary["cells"].get(cell, {}).get("samples", 0)
        state = ("open" if not states or "open" in states
                 else "pass" if set(states) == {"pass"} else "fail")
        out[cell] = {"state": state, "pooled": pooled, "by_gate": states}
    return out


def decided_cells(run) -> set[str]:
    """Cells of an early-stopping run that get no more samples (none for any other run)."""
    if not run.early_stop:
        return set()
    return {cell for cell, d in decisions(run).items() if d["state"] != "open"}


def chunk_order(run, keys: list) -> list:
    """An early-stopping run takes its samples index by index across cells, so that every
    chunk adds to every open cell and a cell can decide before the run's last chunk."""
    if not run.early_stop:
        return keys
    return sorted(keys, key=lambda k: (k[2], k[0], k[1]))
