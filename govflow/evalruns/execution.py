"""Running one chunk of a run's samples against its endpoints, and keeping what finished.

The chunk task and the demo's synchronous path both come through `execute_chunk`, so the
demo's numbers are produced by the same code as a worker's. The HTTP side is the evals
library (`run_samples`, with its client's own retries off); this module only rebuilds the
specs from the run row, runs them in a fresh event loop and stores every finished record,
also when the chunk stops early (a 429, a soft time limit): nothing already paid for is
thrown away.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from evals.runner import run_samples
from govflow.evalruns import stopping
from govflow.evalruns.design import (
    as_keys,
    missing_keys,
    run_sampling,
    run_scenario,
    run_specs,
    stored_keys,
)
from govflow.evalruns.endpoints import Endpoint, get_endpoint
from govflow.evalruns.models import EvalRun, EvalRunStatus
from govflow.evalruns.services import eval_run_complete, eval_samples_store


@dataclass(frozen=True)
class ChunkOutcome:
    finished: int  # samples finished (and stored) by this attempt
    error: BaseException | None = None
    skipped: str | None = None  # why nothing was run (the run is over, or gone)


def _config(name: str, role: str, endpoints: dict[str, Endpoint] | None):
    endpoint = (endpoints or {}).get(name) or get_endpoint(name)
    if endpoint is None:
        raise ImproperlyConfigured(
            f"the run's {role} endpoint {name!r} is no longer configured on this worker "
            "(GOVFLOW_EVAL_ENDPOINTS)"
        )
    return endpoint.config()


def execute_chunk(*, run_id: int, keys: list, concurrency: int,
                  endpoints: dict[str, Endpoint] | None = None) -> ChunkOutcome:
    """Run the chunk's samples that are still missing and store those that finish.

    Re-reads the run: a chunk of a failed or completed run, or one whose samples another
    worker stored meanwhile (a redelivered message), runs nothing. ``endpoints`` may stand
    in for configured ones of the same name (the demo's in-process simulator).
    """
    run = EvalRun.objects.filter(pk=run_id).first()
    if run is None:
        return ChunkOutcome(0, skipped=f"eval run {run_id} does not exist")
    if run.status not in (EvalRunStatus.QUEUED, EvalRunStatus.RUNNING):
        return ChunkOutcome(0, skipped=f"eval run {run_id} is {run.status}")
    wanted = as_keys(keys) - stored_keys(run)
    # Between chunks: a cell the deception gate has decided gets no more samples.
    decided = stopping.decided_cells(run) if wanted else set()
    specs = [s for s in run_specs(run, run_scenario(run))
             if s.key in wanted and s.key[0] not in decided]
    if not specs:
        return ChunkOutcome(0)
    agent = _config(run.endpoint, "agent", endpoints)
    judge = _config(run.judge_endpoint, "judge", endpoints)
    finished: list[dict[str, Any]] = []
    error: BaseException | None = None
    try:
        # A fresh loop per chunk: a Celery worker process has none of its own, and the
        # ORM is never touched inside it (records are collected, then stored below).
        asyncio.run(run_samples(specs, client_config=agent, judge_config=judge,
                                sampling=run_sampling(run), concurrency=concurrency,
                                progress=finished.append))
    except Exception as exc:  # noqa: BLE001 (kept for the task's retry policy to judge)
        # RetryableEndpointError and Celery's SoftTimeLimitExceeded both land here.
        error = exc
    eval_samples_store(run_id=run.pk, records=finished)
    return ChunkOutcome(len(finished), error=error)


def execute_inline(*, run_id: int, concurrency: int | None = None,
                   chunk_size: int | None = None,
                   endpoints: dict[str, Endpoint] | None = None) -> EvalRun | None:
    """Run every missing sample of the run in this process, chunk by chunk, then complete
    it: the demo's path when no worker is running yet. Raises the first chunk error."""
    run = EvalRun.objects.get(pk=run_id)
    size = chunk_size or settings.GOVFLOW_EVAL_CHUNK_SIZE
    missing = [list(k) for k in stopping.chunk_order(run, missing_keys(run, run_scenario(run)))]
    for start in range(0, len(missing), size):
        outcome = execute_chunk(run_id=run_id, keys=missing[start:start + size],
                                concurrency=concurrency or settings.GOVFLOW_EVAL_CONCURRENCY,
                                endpoints=endpoints)
        if outcome.error is not None:
            raise outcome.error
    return eval_run_complete(run_id=run_id)
