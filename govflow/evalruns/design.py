"""From a run row to the evals library's sample specs, and which of them are missing.

Every sample of a run is fixed when the run starts: its cells, samples per cell and seed
give each sample its key (cell, paraphrase, index) and its own seed, so any worker on any
machine rebuilds exactly the same spec for a key, and a retried or resumed sample asks the
endpoint the same question again.
"""

from __future__ import annotations

from evals.client import Sampling
from evals.design import Cell, SampleSpec, sample_specs
from evals.scenarios import Scenario, list_scenarios, load_scenario
from govflow.core.errors import Conflict
from govflow.evalruns.models import EvalRun, EvalSample

Key = tuple[str, int, int]


def scenario_names() -> list[str]:
    return list(list_scenarios())


def run_scenario(run: EvalRun) -> Scenario:
    """The run's scenario, refused if its text changed since the run started: samples of
    two different texts must never be summarised as one run."""
    scenario = load_scenario(run.scenario)
    if scenario.digest != run.scenario_digest:
        raise Conflict(
            f"scenario {run.scenario!r} changed since run {run.pk} started "
            f"({run.scenario_digest} → {scenario.digest}); start a new run"
        )
    return scenario


def run_sampling(run: EvalRun) -> Sampling:
    """The sampling settings every agent request of the run sends (and each sample records)."""
    return Sampling(temperature=run.temperature, top_p=run.top_p, max_tokens=run.max_tokens)


def run_specs(run: EvalRun, scenario: Scenario) -> list[SampleSpec]:
    design = [Cell.from_key(key) for key in run.cells]
    return sample_specs(scenario, design, samples_per_cell=run.samples_per_cell, seed=run.seed)


def stored_keys(run: EvalRun) -> set[Key]:
    rows = EvalSample.objects.filter(run=run).values_list("cell_key", "paraphrase",
                                                          "sample_index")
    return {(c, p, i) for c, p, i in rows}


def missing_keys(run: EvalRun, scenario: Scenario) -> list[Key]:
    """Keys of the samples not stored yet, in spec order."""
    done = stored_keys(run)
    return [spec.key for spec in run_specs(run, scenario) if spec.key not in done]


def as_keys(raw: list) -> set[Key]:
    """Keys as they travel in task messages (JSON lists) back to tuples."""
    return {(str(c), int(p), int(i)) for c, p, i in raw}
