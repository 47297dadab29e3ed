"""Eval-run facts from the log, and the `deception_eval` gate re-derived from them with the
server's decision code (`govflow.evalruns.gates.decision`).

A run is registered by its `eval_run.started` event (system version, scenario and its
digest, planned samples, endpoint) and closed by its first `eval_run.completed` or
`eval_run.withdrawn`, which logs the run's *tally* (`govflow.evalruns.gates.tally`): the
counts the gate pools, split into the samples that show the run's registered scenario text
and those that do not, with the backends and sampling settings seen. The
replay pools every run registered for the release's system version and the scenario, in
log order, as the server does; a run with no closing event counts against the gate. The
tallies go through the same decision as on the server (scenario pin, serving fingerprints,
coverage, kappa, grader, per-cell bounds), and the whole recomputed result is compared with
the recorded gate. The pin is checked against the scenario text the verifier loads, which
must be the pinned one.

Two things are the server's word: its `GOVFLOW_ENV` (a simulated sample meets a gate only
in development; the verifier's report names the environment the server claimed), and the
samples behind each tally, which the closing event commits to by digest but the bundle
does not carry. A closing event without a tally leaves its run unpooled and the gate not
met, never taken from the recorded report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from govflow.evalruns.gates.decision import decide
from govflow.verify.replay.machine import Refused

if TYPE_CHECKING:
    from govflow.verify.replay.gates import Advance

TYPES = {"eval_run.started", "eval_run.resumed", "eval_run.failed", "eval_run.completed",
         "eval_run.withdrawn"}
CLOSED_STATUS = {"eval_run.completed": "completed", "eval_run.withdrawn": "withdrawn"}


@dataclass
class LoggedRun:
    run: int
    release: int
    system_version: int
    scenario: str
    entry: dict[str, Any]  # as `evalruns.pooling` lists a run in the gate's evidence
    status: str = "queued"
    tally: dict[str, Any] | None = None


class EvalRunLog:
    def __init__(self) -> None:
        self.runs: dict[int, LoggedRun] = {}  # in registration order

    def collect(self, body: dict[str, Any]) -> None:
        kind, payload = body["type"], body["payload"]
        if kind == "eval_run.started":
            self.runs[payload["run"]] = LoggedRun(
                run=payload["run"], release=body["release"],
                system_version=payload["system_version"], scenario=payload["scenario"],
                entry={"run": payload["run"], "release": body["release"],
                       "scenario_digest": payload.get("scenario_digest"),
                       "planned": payload.get("total_samples"),
                       "endpoint": (payload.get("endpoint") or {}).get("name"),
                       "judge_endpoint": (payload.get("judge_endpoint") or {}).get("name"),
                       "registered_event": body["uuid"]})
            return
        run = self.runs.get(payload["run"])
        if run is None:
            raise Refused("eval_run", f"{kind} of run {payload['run']}, which the log never "
                                      "registered")
        if "closed_by" in run.entry:
            return  # the first closing event is the one that counts, as on the server
        if kind in CLOSED_STATUS:
            run.status = CLOSED_STATUS[kind]
            run.entry.update(closed_by=kind, closing_event=body["uuid"],
                             stored=payload["samples"] if kind == "eval_run.completed"
                             else payload["stored"])
            run.tally = payload.get("tally")
        else:
            run.status = "failed" if kind == "eval_run.failed" else "running"

    def pool(self, system_version: int, scenario: str
             ) -> tuple[list[dict[str, Any]], list[str], dict[int, dict[str, Any]]]:
        """(runs as the evidence lists them, what keeps the pool from counting, run id ->
        tally of each closed run)."""
        runs, problems, tallies = [], [], {}
        for run in self.runs.values():
            if run.system_version != system_version or run.scenario != scenario:
                continue
            entry = {"status": run.status, "stored": 0, **run.entry}
            runs.append(dict(sorted(entry.items())))
            if "closed_by" not in run.entry:
                problems.append(f"run {run.run} is {run.status} with no completion or "
                                "withdrawal in the log: a registered run counts against the "
                                "gate until it completes or is withdrawn with a reason")
            elif not isinstance(run.tally, dict):
                # Every closing event the server writes logs one: a run without it cannot
                # be pooled, and leaving it out would let an operator drop a bad run.
                problems.append(f"run {run.run}'s {run.entry['closed_by']} event logs no "
                                "tally of its samples, so the log cannot show what it "
                                "measured")
            else:
                tallies[run.run] = run.tally
        return runs, problems, tallies


def rederive_deception_eval(gate: dict[str, Any], advance: Advance) -> None:
    from evals.scenarios import load_scenario

    params, state = gate["params"], advance.state
    manifest = advance.facts.manifests.get(state.manifest_digest)
    if manifest is None:
        raise Refused("gate_evidence", f"gate {gate['id']}: the manifest "
                                       f"{state.manifest_digest} is not in the log")
    serving = manifest.get("serving")
    runs, problems, tallies = advance.facts.evalruns.pool(state.system_version,
                                                          params["scenario"])
    evidence: dict[str, Any] = {"scenario": params["scenario"],
                                "system_version": state.system_version,
                                "manifest_digest": state.manifest_digest,
                                "bound": params["bound"], "confidence": params["confidence"],
                                "thresholds": params["thresholds"], "runs": runs}
    if not serving or not runs:
        raise Refused("gate_not_met", f"gate {gate['id']} re-derived from the log is not met: "
                      + ("the logged manifest declares no serving" if not serving else
                         f"no {params['scenario']} eval run registered in the log for "
                         f"system version {state.system_version}"))
    # The server's environment is its own claim (see the module's docstring).
    environment = str(gate["evidence"].get("environment"))
    try:
        met, reason = decide(params=params, serving=serving, evidence=evidence, runs=runs,
                             pool_problems=problems, tallies=tallies,
                             scenario=load_scenario(params["scenario"]),
                             environment=environment)
    except (KeyError, TypeError, ValueError, AttributeError) as why:
        raise Refused("gate_evidence", f"gate {gate['id']}: a logged eval-run tally is not "
                                       f"of the form the gate pools ({why!r})") from why
    advance.compare(gate, met, reason, evidence)
