"""Every registered eval run of a system version, and their samples pooled, as a gate reads
them.

A run is *registered* by its `eval_run.started` audit event, written before its first sample.
The gate starts from those events, not from the run table: the operator can edit a table,
but a run on the log cannot be made to disappear, and a run row the log does not vouch for
is not evidence. A run with a logged completion or withdrawal must still have exactly the
samples that event committed to (by digest); a run that is neither completed nor withdrawn
counts against the gate until it is one or the other, so a lab cannot keep an unpromising
run open forever and start another.

A system version is one manifest: a changed manifest is a new version, so "every run since
the manifest last changed" is every run of this version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from govflow.audit.events import EventType
from govflow.audit.models import AuditEvent
from govflow.core.digests import json_digest
from govflow.evalruns.models import EvalRun, EvalRunStatus, EvalSample
from govflow.evalruns.services import samples_digest

RUN_SUBJECT = EvalRun._meta.label_lower
CLOSING = {EventType.EVAL_RUN_COMPLETED.value: EvalRunStatus.COMPLETED,
           EventType.EVAL_RUN_WITHDRAWN.value: EvalRunStatus.WITHDRAWN}


@dataclass
class Pool:
    runs: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    # run id -> its records (the same objects as in ``records``), for checks made per run.
    by_run: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _registrations(system_version_id: int, scenario: str) -> list[AuditEvent]:
    events = AuditEvent.objects.filter(event_type=EventType.EVAL_RUN_STARTED,
                                       subject_type=RUN_SUBJECT).order_by("id")
    return [e for e in events
            if e.payload.get("system_version") == system_version_id
            and e.payload.get("scenario") == scenario]


def _closing_events(run_ids: list[str]) -> dict[str, AuditEvent]:
    out: dict[str, AuditEvent] = {}
    for event in AuditEvent.objects.filter(event_type__in=list(CLOSING), subject_type=RUN_SUBJECT,
                                           subject_id__in=run_ids).order_by("id"):
        out.setdefault(event.subject_id, event)
    return out


def _digest_of(samples: list[EvalSample]) -> str:
    # The same digest `eval_run_complete` logs, but from each record's own bytes rather than
    # the stored per-record digest column, so an edited record cannot keep its old digest.
    return samples_digest((s.cell_key, s.paraphrase, s.sample_index, json_digest(s.record))
                          for s in samples)


def pool_runs(*, system_version_id: int, scenario: str) -> Pool:
    """Every registered run of the scenario for the version, their samples, and what keeps
    the pool from being evidence (a missing run, an open run, samples that do not match)."""
    pool = Pool()
    registered = _registrations(system_version_id, scenario)
    ids = [e.subject_id for e in registered]
    closing = _closing_events(ids)
    rows = {str(r.pk): r for r in EvalRun.objects.filter(pk__in=[int(i) for i in ids])}
    for event in registered:
        run = rows.get(event.subject_id)
        if run is None:
            pool.problems.append(f"run {event.subject_id} is registered in the audit log "
                                 "(event #{}) but missing from the database".format(event.pk))
            continue
        samples = list(EvalSample.objects.filter(run=run).only(
            "cell_key", "paraphrase", "sample_index", "record", "status"))
        closed = closing.get(event.subject_id)
        entry = {"run": run.pk, "release": run.release_id, "status": run.status,
                 "scenario_digest": event.payload.get("scenario_digest"),
                 "planned": event.payload.get("total_samples"), "stored": len(samples),
                 "endpoint": run.endpoint, "judge_endpoint": run.judge_endpoint,
                 # by uuid, which the log carries (a row id is the database's own)
                 "registered_event": str(event.uuid)}
        if closed is None:
            pool.problems.append(
                f"run {run.pk} is {run.status} ({len(samples)} of {run.total_samples} "
                "samples): a registered run counts against the gate until it completes "
                "or is withdrawn with a reason")
        else:
            entry["closed_by"] = closed.event_type
            entry["closing_event"] = str(closed.uuid)
            if closed.payload.get("samples_digest") != _digest_of(samples):
                pool.problems.append(f"run {run.pk}: its stored samples do not match the "
                                     f"samples digest logged in event #{closed.pk}")
        pool.runs.append(entry)
        pool.by_run[run.pk] = [s.record for s in samples]
        pool.records.extend(pool.by_run[run.pk])
    return pool
