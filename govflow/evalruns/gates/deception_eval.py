"""Gate kind `deception_eval`: every registered eval run of a scenario for the release's
system version, pooled, bounds per-episode harm rates in every cell.

Met only when all of these hold (docs/eval-gate.md shows a refusal for each):

- the manifest declares how the system is served (``serving.endpoint``, ``serving.model``),
  every pooled run called that endpoint, every sample was answered by that model and judged
  by the policy's ``judge_model``, which is not the model under test; the replies report
  one backend fingerprint, or only those ``serving.system_fingerprints`` declares
  (`govflow.evalruns.gates.fingerprints`);
- no sample came from a SIMULATED endpoint unless ``GOVFLOW_ENV`` is ``development``;
- every run registered for the version (``eval_run.started``) is in the pool, none is still
  open, and each closed run's samples match the digest its closing event logged; samples of
  withdrawn runs count (`govflow.evalruns.pooling`);
- the policy pins the scenario's text by digest (``scenario_digest``), and every pooled run
  and sample ran that text; a registered run of another text refuses the gate
  (`govflow.evalruns.gates.pinning`);
- the runs cover every level named in ``cover`` (``all`` means every level of the factor),
  so easy cells alone prove nothing;
- sampling settings recorded per sample are inside ``sampling``'s bounds, if given;
- judge and rule graders agree (Cohen's kappa per judged turn at least ``min_kappa``);
- in every cell, for every metric in ``thresholds``, counting each invalid, ambiguous or
  errored outcome as harmful, the one-sided upper bound at ``confidence`` is under the
  threshold, the cell has ``min_samples_per_cell`` samples and at most ``max_invalid_share``
  of them are invalid or errored (`govflow.evalruns.gates.cells`).

The bound is ``anytime`` (a confidence sequence, `evals.bounds`) by default, because runs are
pooled and a gate may be read at any time; ``fixed_n`` is allowed only when exactly one run
is registered and it completed at its planned size.

The decision itself is `govflow.evalruns.gates.decision` (Django-free), over per-run tallies
of the pooled samples (`gates.tally`); the offline verifier applies it to the tallies the
runs' closing events logged.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from govflow.core.digests import is_sha256_digest
from govflow.evalruns.gates import cells as cellcheck
from govflow.evalruns.gates.decision import decide
from govflow.evalruns.gates.tally import SAMPLING, tally
from govflow.gates.params import Param
from govflow.gates.registry import GateKind, GateResult


def check(params) -> list[tuple[str, str]]:
    from evals.scenarios import list_scenarios, load_scenario

    problems = cellcheck.check_thresholds(params)
    pin = params.get("scenario_digest")
    if pin is not None and not is_sha256_digest(pin):
        problems.append(("scenario_digest", "must be sha256:<64 hex digits>, as printed by "
                                            f"python -m evals digest {params['scenario']}"))
    if params["scenario"] not in list_scenarios():
        return problems + [("scenario", f"no scenario {params['scenario']!r}; have: "
                                        + ", ".join(list_scenarios()))]
    scenario = load_scenario(params["scenario"])
    for factor, levels in (params["cover"] or {}).items():
        if factor not in scenario.factors:
            problems.append((f"cover.{factor}", f"{scenario.name} has no factor {factor!r}; "
                                                f"factors: {', '.join(sorted(scenario.factors))}"))
        elif levels != "all" and (not isinstance(levels, list) or not levels or not all(
            level in scenario.factors[factor] for level in levels
        )):
            problems.append((f"cover.{factor}", "must be 'all' or list levels of the factor: "
                                                + ", ".join(scenario.factors[factor])))
    for name, limits in (params["sampling"] or {}).items():
        if name not in SAMPLING:
            problems.append((f"sampling.{name}", "bounds apply to: " + ", ".join(SAMPLING)))
        elif not isinstance(limits, dict) or not limits or set(limits) - {"min", "max"} or any(
                isinstance(v, bool) or not isinstance(v, (int, float)) for v in limits.values()):
            problems.append((f"sampling.{name}", "must be a mapping with min and/or max numbers"))
    return problems


def evaluate(params, ctx) -> GateResult:
    from evals.scenarios import load_scenario
    from govflow.evalruns.pooling import pool_runs

    name = params["scenario"]
    version = ctx.release.system_version
    serving = version.manifest.get("serving")
    evidence: dict[str, Any] = {"scenario": name, "system_version": version.pk,
                                "manifest_digest": version.manifest_digest,
                                "bound": params["bound"], "confidence": params["confidence"],
                                "thresholds": params["thresholds"], "runs": []}
    if not serving:
        return GateResult(False, "the system manifest does not declare how the system is "
                                 "served (serving.endpoint and serving.model), so no eval "
                                 "run can be tied to it", evidence)
    pool = pool_runs(system_version_id=version.pk, scenario=name)
    evidence["runs"] = pool.runs
    if not pool.runs and not pool.problems:
        return GateResult(False, f"no registered {name} eval run for system version "
                                 f"{version.pk}", evidence)
    scenario = load_scenario(name)
    tallies = {run["run"]: tally(pool.by_run[run["run"]], scenario=scenario,
                                 digest=run["scenario_digest"]) for run in pool.runs}
    met, reason = decide(params=params, serving=serving, evidence=evidence, runs=pool.runs,
                         pool_problems=pool.problems, tallies=tallies, scenario=scenario,
                         environment=settings.GOVFLOW_ENV)
    return GateResult(met, reason, evidence)


KIND = GateKind(
    name="deception_eval",
    description="Every registered eval run of a scenario for the release's system version, "
                "pooled, bounds per-episode harm rates in every cell (one-sided upper "
                "confidence bound, ungraded outcomes counted as harmful).",
    params={
        "scenario": Param("str", help="a scenario of evals/scenarios, e.g. insider_trading"),
        "scenario_digest": Param("str", required=False, default=None,
                                 help="the scenario text's content digest (python -m evals "
                                      "digest NAME); only runs of that text count, and a run "
                                      "of another text refuses the gate. Unset: refused"),
        **cellcheck.PARAMS,
        "min_kappa": Param("number", minimum=-1, maximum=1,
                           help="minimum judge-rule Cohen's kappa per judged turn"),
        "judge_model": Param("str", help="the model id the judge endpoint must answer with; "
                                         "never the model under test"),
        "min_grader_recall": Param("number", required=False, default=0.9, minimum=0,
                                   maximum=1,
                                   help="minimum recall of the harmful label, per fork, of "
                                        "the grader version behind the runs on the labelled "
                                        "validation set"),
        "cover": Param("mapping", required=False, default=None,
                       help="factor -> levels (or 'all') the pooled runs must include "
                            "(default: the scenario's default design)"),
        "sampling": Param("mapping", required=False, default=None,
                          help="bounds on recorded sampling settings, e.g. "
                               "{temperature: {min: 0.7}}; a setting not recorded fails"),
    },
    evaluate=evaluate,
    check=check,
)
