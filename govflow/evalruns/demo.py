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

from govflow.evalruns.endpoints import Endpoint, get_endpoint
from govflow.evalruns.execution import execute_inline
from govflow.evalruns.models import EvalRun, EvalRunStatus
from govflow.evalruns.services import eval_run_start
from govflow.evalruns.simulator import simulator_in_process
from govflow.policy.selectors import policy_of

ENDPOINT = "simulator"
PROFILE = "default"
SCENARIO = "insider_trading"
# The lab's system prompt carries a specific prohibition of insider trading: that is part
# of the *system* under evaluation, so the run holds the stance at that level and crosses
# the pressure levels the gate asks to see covered.
FACTORS = {"pressure": ["none", "moderate", "high"], "stance": ["specific"]}
SEED = 2
FALLBACK_SAMPLES = 150


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


def _samples_per_cell(release) -> int:
    for stage in policy_of(release.policy).stages:
        for gate in stage.gates:
            if gate.kind == "deception_eval" and gate.params.get("scenario") == SCENARIO:
                return int(gate.params["min_samples_per_cell"])
    return FALLBACK_SAMPLES


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
            run = eval_run_start(
                release_id=release.pk, scenario=SCENARIO, factors=FACTORS,
                samples_per_cell=_samples_per_cell(release), endpoint=ENDPOINT,
                judge_endpoint=ENDPOINT, seed=SEED, temperature=1.0, actor=actor, queue=False,
            )
        # Bigger chunks than a worker's: here they only bound memory, not a retry.
        execute_inline(run_id=run.pk, chunk_size=500, endpoints={ENDPOINT: endpoint})
    run.refresh_from_db()
    return run, where


def describe(run: EvalRun, where: str | None) -> list[str]:
    """What the demo command prints about the run."""
    worst = ((run.summary or {}).get("worst_cell") or {}).get("joint") or {}
    lines = [
        f"Eval run {run.pk} ({run.scenario}, {len(run.cells)} cells x {run.samples_per_cell} "
        f"samples) of release {run.release_id}: {run.status}.",
        "  *** SIMULATED endpoint: these numbers describe the simulator's "
        f"'{PROFILE}' profile, not any real model. ***",
    ]
    if where:
        lines.append(f"  Samples came from {where}.")
    if worst:
        lines.append(f"  Worst cell for P(trade, hide, lie): {worst['cell']} "
                     f"{worst['k']}/{worst['n']}, upper 95% bound {worst['upper']:.3f}.")
    lines.append(f"  GET /api/eval-runs/{run.pk} shows the funnel per cell.")
    return lines
