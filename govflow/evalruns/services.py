"""Every write of an eval run: start, resume, plan, store samples, fail, complete.

The governed changes (a run requested, resumed, failed, completed) each append exactly one
audit event in their transaction. Storing samples and moving queued → running are progress,
not decisions: they append nothing, and the completion event commits to every stored sample
by digest instead. Every function assumes it runs concurrently with itself on another
machine: samples go in with ignore-conflicts on their unique key, and completion happens
under the run's row lock, once.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from evals import stats
from evals.design import cells as design_cells
from evals.errors import ScenarioError
from evals.scenarios import load_scenario
from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.core.digests import json_digest
from govflow.core.errors import Conflict, field_error
from govflow.core.tasks import enqueue_after_commit
from govflow.evalruns import stopping
from govflow.evalruns.design import missing_keys, run_scenario, scenario_names
from govflow.evalruns.endpoints import Endpoint, endpoint_names, get_endpoint, looks_like_url
from govflow.evalruns.gates.tally import tally
from govflow.evalruns.locks import lock_eval_run
from govflow.evalruns.models import EvalRun, EvalRunStatus, EvalSample
from govflow.releases.locks import lock_release
from govflow.releases.models import ReleaseStatus

# A cautious reading: a report or answer the rule grader and the judge disagree on
# ("ambiguous") counts as deceptive. Auditors care about the worst plausible rate.
AMBIGUOUS_POLICY = "worst"
SUMMARY_CONFIDENCE = 0.95
ACTIVE = (EvalRunStatus.QUEUED, EvalRunStatus.RUNNING)


def _endpoint(name: str, path: str) -> Endpoint:
    if looks_like_url(name):
        # No server-side request forgery: the server calls only what the operator set up.
        raise field_error(path, "give the name of an operator-configured endpoint; URLs are not "
                          "accepted (configured: " + (", ".join(endpoint_names()) or "none") + ")")
    endpoint = get_endpoint(name)
    if endpoint is None:
        raise field_error(path, f"no endpoint named {name!r}; configured: "
                          + (", ".join(endpoint_names()) or "none"))
    return endpoint


def _public(endpoint: Endpoint) -> dict[str, Any]:
    return {"name": endpoint.name, "model": endpoint.model, "base_url": endpoint.base_url}


def _event(event_type: EventType, run: EvalRun, actor, payload: dict[str, Any]) -> None:
    audit_append(event_type=event_type, actor=actor, subject=run,
                 organization_id=run.release.organization_id, release_id=run.release_id,
                 payload={"run": run.pk, **payload})


def _refuse_unpinned_text(release, loaded) -> None:
    """A run of a text the release's policy does not pin could never count, and would keep
    the gate refused for the system version (`gates.pinning`): refused before it is
    registered. This is a courtesy to an honest lab; the gate does not rely on it."""
    pins = {p["scenario_digest"] for p in stopping.policy_gates(release, loaded.name)
            if p.get("scenario_digest")}
    if pins and loaded.digest not in pins:
        raise field_error(
            "scenario", f"the release's policy pins {loaded.name} at "
            f"{', '.join(sorted(pins))}; this server's {loaded.name} is {loaded.digest}, so a "
            "run of it would not count, and once registered it would keep the deception gate "
            "refused for this system version")


@transaction.atomic
def eval_run_start(
    *, release_id: int, scenario: str, factors: dict[str, list[str]] | None,
    samples_per_cell: int, endpoint: str, judge_endpoint: str, seed: int = 0,
    temperature: float = 1.0, top_p: float | None = None, max_tokens: int | None = None,
    actor, queue: bool = True, early_stop: bool | None = None,
) -> EvalRun:
    """Record a run of ``scenario`` for the release and queue it (after commit).

    ``early_stop``: stop each cell once the policy's deception gate decides it (None: on
    when that gate uses the anytime bound; True is refused under fixed_n)."""
    release = lock_release(release_id)
    if release.status == ReleaseStatus.HALTED:
        raise Conflict(f"release {release.pk} is halted")
    # A name from evals/scenarios only: load_scenario would also read a path.
    if scenario not in scenario_names():
        raise field_error("scenario",
                          f"no scenario {scenario!r}; have: {', '.join(scenario_names())}")
    loaded = load_scenario(scenario)
    _refuse_unpinned_text(release, loaded)
    try:
        design = design_cells(loaded, factors or None)
    except ScenarioError as exc:
        raise field_error("factors", str(exc)) from exc
    if not 1 <= samples_per_cell <= settings.GOVFLOW_EVAL_MAX_SAMPLES_PER_CELL:
        raise field_error("samples_per_cell",
                          f"must be 1 to {settings.GOVFLOW_EVAL_MAX_SAMPLES_PER_CELL}")
    total = samples_per_cell * len(design)
    if total > settings.GOVFLOW_EVAL_MAX_SAMPLES_PER_RUN:
        raise field_error(
            "samples_per_cell", f"{len(design)} cells x {samples_per_cell} = {total} samples; "
            f"a run may have at most {settings.GOVFLOW_EVAL_MAX_SAMPLES_PER_RUN}")
    if not 0.0 <= temperature <= 2.0:
        raise field_error("temperature", "must be between 0 and 2")
    if top_p is not None and not 0.0 <= top_p <= 1.0:
        raise field_error("top_p", "must be between 0 and 1")
    if max_tokens is not None and max_tokens < 1:
        raise field_error("max_tokens", "must be a positive number of tokens")
    agent = _endpoint(endpoint, "endpoint")
    judge = _endpoint(judge_endpoint, "judge_endpoint")
    stop_rules = stopping.resolve(release, loaded.name, early_stop)
    run = EvalRun.objects.create(early_stop=stop_rules,
        release=release, scenario=loaded.name, scenario_digest=loaded.digest,
        factors=factors or {}, cells=[cell.key for cell in design],
        samples_per_cell=samples_per_cell, total_samples=total,
        endpoint=agent.name, endpoint_model=agent.model,
        judge_endpoint=judge.name, judge_model=judge.model,
        seed=seed, temperature=temperature, top_p=top_p, max_tokens=max_tokens,
        created_by=actor, created_at=timezone.now(),
    )
    # The registration: logged before any sample exists, so every run of the system version
    # is on record and a gate pools all of them (no rerunning until one run looks good).
    _event(EventType.EVAL_RUN_STARTED, run, actor, {
        "scenario": run.scenario, "scenario_digest": run.scenario_digest,
        "factors": run.factors, "cells": run.cells, "samples_per_cell": samples_per_cell,
        "planned_samples": total,
        "total_samples": total, "endpoint": _public(agent), "judge_endpoint": _public(judge),
        "seed": seed, "temperature": temperature, "top_p": top_p, "max_tokens": max_tokens,
        "system_version": release.system_version_id,
        "manifest_digest": release.system_version.manifest_digest,
        "early_stop": stop_rules,
    })
    if queue:
        from govflow.evalruns.tasks import plan_eval_run

        enqueue_after_commit(plan_eval_run, run.pk)
    return run


@transaction.atomic
def eval_run_resume(*, run_id: int, actor) -> EvalRun:
    """Queue the run again: only its missing samples will be run."""
    run = lock_eval_run(run_id)
    if run is None:
        raise Conflict(f"eval run {run_id} does not exist")
    if run.status in (EvalRunStatus.COMPLETED, EvalRunStatus.WITHDRAWN):
        raise Conflict(f"eval run {run.pk} is already {run.status}")
    if run.release.status == ReleaseStatus.HALTED:
        raise Conflict(f"release {run.release_id} is halted")
    stored = EvalSample.objects.filter(run=run).count()
    previous = run.status
    run.status, run.failure_reason = EvalRunStatus.QUEUED, ""
    run.save(update_fields=["status", "failure_reason"])
    _event(EventType.EVAL_RUN_RESUMED, run, actor, {
        "from_status": previous, "stored": stored, "missing": run.total_samples - stored,
    })
    from govflow.evalruns.tasks import plan_eval_run

    enqueue_after_commit(plan_eval_run, run.pk)
    return run


@transaction.atomic
def eval_run_plan(*, run_id: int) -> list[list[list]] | None:
    """Split the run's missing samples into chunks and queue one task per chunk.

    Returns the chunks ([] when nothing is missing: the caller completes the run), or None
    when the run is not queued or running. Planning twice (a resume while chunks are in
    flight) may queue a sample twice; the unique key keeps one copy.
    """
    run = lock_eval_run(run_id)
    if run is None or run.status not in ACTIVE:
        return None
    decided = stopping.decided_cells(run)
    missing = stopping.chunk_order(run, [k for k in missing_keys(run, run_scenario(run))
                                         if k[0] not in decided])
    if run.status == EvalRunStatus.QUEUED:
        run.status, run.started_at = EvalRunStatus.RUNNING, run.started_at or timezone.now()
        run.save(update_fields=["status", "started_at"])
    size = settings.GOVFLOW_EVAL_CHUNK_SIZE
    chunks = [[list(k) for k in missing[i:i + size]] for i in range(0, len(missing), size)]
    from govflow.evalruns.tasks import run_eval_chunk

    for chunk in chunks:
        enqueue_after_commit(run_eval_chunk, run.pk, chunk)
    return chunks


@transaction.atomic
def eval_samples_store(*, run_id: int, records: list[dict[str, Any]]) -> int:
    """Store finished sample records; a key already stored is left as it was (the first
    copy stays). Returns how many records were offered.

    Nothing is stored into a completed or withdrawn run: its closing event committed to its
    samples by digest, and a chunk still in flight when the run closed (a cell stopped
    early, a withdrawal) must not change them afterwards. The row lock orders this against
    the closing."""
    if not records:
        return 0
    run = lock_eval_run(run_id)
    if run is None or run.status in (EvalRunStatus.COMPLETED, EvalRunStatus.WITHDRAWN):
        return 0
    now = timezone.now()
    rows = [
        EvalSample(run_id=run_id, cell_key=r["cell"], paraphrase=r["paraphrase"],
                   sample_index=r["index"], status=str(r.get("status")), record=r,
                   record_digest=json_digest(r), recorded_at=now)
        for r in records
    ]
    # ignore_conflicts: ON CONFLICT DO NOTHING (PostgreSQL) / INSERT OR IGNORE (SQLite), so
    # two workers storing the same sample race harmlessly and the first copy stays.
    EvalSample.objects.bulk_create(rows, ignore_conflicts=True)
    EvalRun.objects.filter(pk=run_id, status=EvalRunStatus.QUEUED).update(
        status=EvalRunStatus.RUNNING, started_at=now)
    return len(rows)


@transaction.atomic
def eval_run_fail(*, run_id: int, reason: str) -> bool:
    """Mark the run failed with ``reason`` (a worker's verdict; no person acts). False when
    it had already finished either way."""
    run = lock_eval_run(run_id)
    if run is None or run.status not in ACTIVE:
        return False
    stored = EvalSample.objects.filter(run=run).count()
    run.status, run.failure_reason = EvalRunStatus.FAILED, reason[:2000]
    run.save(update_fields=["status", "failure_reason"])
    _event(EventType.EVAL_RUN_FAILED, run, None, {
        "reason": run.failure_reason, "stored": stored, "missing": run.total_samples - stored,
    })
    return True


@transaction.atomic
def eval_run_withdraw(*, run_id: int, reason: str, actor) -> EvalRun:
    """Stop a run that has not completed, for a reason that goes into the audit log.

    Its stored samples keep counting in every gate that pools the system version's runs:
    withdrawal ends the run's claim to more samples, never what it measured. Stopping a
    run early this way is honest under the anytime-valid bound (``evals.bounds``).
    """
    run = lock_eval_run(run_id)
    if run is None:
        raise Conflict(f"eval run {run_id} does not exist")
    reason = (reason or "").strip()
    if not reason:
        raise field_error("reason", "say why the run is withdrawn; the reason is logged")
    if run.status in (EvalRunStatus.COMPLETED, EvalRunStatus.WITHDRAWN):
        raise Conflict(f"eval run {run.pk} is already {run.status}")
    stored = EvalSample.objects.filter(run=run).count()
    previous = run.status
    run.status, run.withdrawal_reason = EvalRunStatus.WITHDRAWN, reason[:2000]
    run.samples_digest = _samples_digest(run)
    run.save(update_fields=["status", "withdrawal_reason", "samples_digest"])
    _event(EventType.EVAL_RUN_WITHDRAWN, run, actor, {
        "from_status": previous, "reason": run.withdrawal_reason, "stored": stored,
        "missing": run.total_samples - stored, "samples_digest": run.samples_digest,
        # Its samples keep counting in the gate: the offline verifier pools this tally.
        "tally": _tally(run),
    })
    return run


def samples_digest(rows) -> str:
    """Digest of (cell, paraphrase, index, record digest) rows, sorted here rather than by
    the database, whose collation could order cell keys differently from a verifier."""
    return json_digest(sorted([str(c), int(p), int(i), str(d)] for c, p, i, d in rows))


def _samples_digest(run: EvalRun) -> str:
    return samples_digest(EvalSample.objects.filter(run=run).values_list(
        "cell_key", "paraphrase", "sample_index", "record_digest"))


def _tally(run: EvalRun) -> dict:
    """The run's samples as `deception_eval` pools them, checked against the scenario text
    loaded now (a text other than the run's leaves the tally marked unchecked)."""
    return tally(EvalSample.objects.filter(run=run).order_by("id")
                 .values_list("record", flat=True).iterator(chunk_size=500),
                 scenario=load_scenario(run.scenario), digest=run.scenario_digest)


@transaction.atomic
def eval_run_complete(*, run_id: int) -> EvalRun | None:
    """Summarise and complete the run if every sample is stored, or (early stopping) every
    cell still missing samples is decided; otherwise do nothing.

    Every chunk task calls this when it finishes, so several may call it at once: the row
    lock lets one in at a time, the first that finds the run done completes it, and the
    others find it completed and leave. One completion, one event.
    """
    run = lock_eval_run(run_id)
    if run is None or run.status not in ACTIVE:
        return None
    samples = EvalSample.objects.filter(run=run)
    stored = samples.count()
    decided = None
    if run.early_stop:
        decided = stopping.decisions(run)
        open_cells = {c for c, d in decided.items() if d["state"] == "open"}
        if any(k[0] in open_cells for k in missing_keys(run, run_scenario(run))):
            return None
        per_cell = dict(samples.values_list("cell_key").annotate(n=Count("id")))
        for cell, decision in decided.items():
            decision["samples"] = per_cell.get(cell, 0)
            decision["planned"] = run.samples_per_cell
        run.stop_decisions = decided
    elif stored < run.total_samples:
        return None
    records = samples.order_by("id").values_list("record", flat=True).iterator(chunk_size=500)
    summary = stats.summarize(records, confidence=SUMMARY_CONFIDENCE, ambiguous=AMBIGUOUS_POLICY)
    run.summary = summary
    run.summary_digest = json_digest(summary)
    run.samples_digest = _samples_digest(run)
    run.status, run.completed_at = EvalRunStatus.COMPLETED, timezone.now()
    run.save(update_fields=["summary", "summary_digest", "samples_digest", "status",
                            "completed_at", "stop_decisions"])
    _event(EventType.EVAL_RUN_COMPLETED, run, None, {
        "scenario": run.scenario, "scenario_digest": run.scenario_digest,
        "samples": stored, "planned_samples": run.total_samples, "early_stop": decided,
        "summary_digest": run.summary_digest,
        "samples_digest": run.samples_digest, "worst_cell": summary["worst_cell"],
        "kappa": {turn: k["kappa"] for turn, k in summary["kappa"].items()},
        "simulated": summary["simulated"], "models_answered": summary["models_answered"],
        # What the deception gate pools of this run, for the offline verifier to re-derive it.
        "tally": _tally(run),
    })
    return run
