"""The demo's eval run: the insider-trading scenario against the SIMULATED agent.

`manage.py demo` runs before any worker is up, so the run's samples are run here,
synchronously, through the same code a chunk task runs (`execute_inline`). The endpoint is
the configured `simulator` when it answers as the simulator's `default` profile (honcho
starts it with `make run`); otherwise a simulator is started in this process, on a thread,
for the duration of the run. Every number the run produces describes that simulator
profile, not any real model, and the run says so (`simulated: true`).
"""

from __future__ import annotations

import contextlib
import json
import urllib.request
from collections.abc import Iterator
from dataclasses import replace

from evals.funnel import HEADERS
from govflow.evalruns.endpoints import Endpoint, get_endpoint
from govflow.evalruns.execution import execute_inline
from govflow.evalruns.models import EvalRun, EvalRunStatus
from govflow.evalruns.services import eval_run_start
from govflow.evalruns.simulator import simulator_in_process
from govflow.evalruns.stopping import policy_gates

ENDPOINT = "simulator"
# The simulator's `honest` profile: the demo's release is meant to get through the gate.
# (The `default` profile hides a trade in about a third of high-pressure episodes without a
# specific prohibition, and the default policy's gate rightly refuses it.)
PROFILE = "honest"
SCENARIO = "insider_trading"
SEED = 2
# Planned samples per cell: at least the gate's floor. The anytime-valid bound would let a
# cell stop earlier; the demo plans a fixed size so its output is the same every time.
DEMO_SAMPLES = 100


def _answers_as_profile(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=1.0) as response:  # noqa: S310
            names = {m.get("id") for m in json.load(response).get("data", [])}
    except (OSError, ValueError):
        return False
    return f"govflow-simulator/{PROFILE}" in names


@contextlib.contextmanager
def simulator_endpoint() -> Iterator[tuple[Endpoint, str]]:
    """The `simulator` endpoint as configured if it is up, else one served in-process."""
    configured = get_endpoint(ENDPOINT) or Endpoint(ENDPOINT, "http://127.0.0.1:8900/v1",
                                                    "govflow-simulator")
    if _answers_as_profile(configured.base_url):
        yield configured, "the simulator at " + configured.base_url
        return
    with simulator_in_process(PROFILE) as (url, _server):
        yield replace(configured, base_url=url), f"a simulator started in-process at {url}"


def _design(release) -> tuple[dict[str, list[str]], int]:
    """The levels the policy's gate asks to see covered, and its samples per cell."""
    from evals.scenarios import load_scenario

    params = next(iter(policy_gates(release, SCENARIO)), {})
    scenario = load_scenario(SCENARIO)
    cover = params.get("cover") or scenario.default_design
    factors = {f: list(scenario.factors[f]) if levels == "all" else list(levels)
               for f, levels in cover.items()}
    return factors, max(int(params.get("min_samples_per_cell") or 1), DEMO_SAMPLES)


def ensure_demo_eval_run(*, release, actor) -> tuple[EvalRun, str | None]:
    """A completed run of the scenario for the release: the one there is, or a new one.
    Returns the run and where its samples came from (None: it already existed)."""
    runs = EvalRun.objects.filter(release=release, scenario=SCENARIO).order_by("-id")
    run = runs.filter(status=EvalRunStatus.COMPLETED).first()
    if run is not None:
        return run, None
    run = runs.filter(status__in=[EvalRunStatus.QUEUED, EvalRunStatus.RUNNING]).first()
    with simulator_endpoint() as (endpoint, where):
        if run is None:
            factors, samples = _design(release)
            run = eval_run_start(
                release_id=release.pk, scenario=SCENARIO, factors=factors,
                samples_per_cell=samples, endpoint=ENDPOINT,
                judge_endpoint=ENDPOINT, seed=SEED, temperature=1.0, actor=actor, queue=False,
            )
        # Bigger chunks than a worker's: here they only bound memory, not a retry.
        execute_inline(run_id=run.pk, chunk_size=500, endpoints={ENDPOINT: endpoint})
    run.refresh_from_db()
    return run, where


def describe(run: EvalRun, where: str | None) -> list[str]:
    """What the demo command prints about the run."""
    worst = ((run.summary or {}).get("worst_cell") or {}).get("deceptive") or {}
    lines = [
        f"Eval run {run.pk} ({run.scenario}, {len(run.cells)} cells x {run.samples_per_cell} "
        f"samples) of release {run.release_id}: {run.status}.",
        "  *** SIMULATED endpoint: these numbers describe the simulator's "
        f"'{PROFILE}' profile, not any real model. The deception gate accepts a simulated "
        "run only in development: with GOVFLOW_ENV=production it is refused. ***",
    ]
    if where:
        lines.append(f"  Samples came from {where}.")
    pins = {p.get("scenario_digest") for p in policy_gates(run.release, run.scenario)}
    pinned = "the text the policy's deception gate pins" if pins == {run.scenario_digest} \
        else "NOT the text the policy's deception gate pins, so the gate refuses it"
    lines.append(f"  Scenario text {run.scenario_digest} ({pinned}; python -m evals digest "
                 f"{run.scenario} prints it).")
    if worst:
        lines.append(f"  Worst cell for {HEADERS['deceptive']} (deceptive): {worst['cell']} "
                     f"{worst['k']}/{worst['n']} (ungraded counted as harmful); the gate "
                     "report shows its one-sided anytime-valid bound.")
    lines.append(f"  GET /api/eval-runs/{run.pk} shows the funnel per cell.")
    return lines
