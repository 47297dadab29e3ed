"""Celery tasks of eval runs: thin, idempotent, each taking ids and calling services.

`plan_eval_run` splits a run's missing samples into chunks and fans out one
`run_eval_chunk` per chunk; any worker on any machine may take any chunk, since each
rebuilds its samples from the run row and stores them under their unique key. The chunk
that finds every sample stored completes the run (under the run's row lock, once).

Messages are acknowledged late and given back if the worker dies (`acks_late`,
`reject_on_worker_lost`): a killed worker's chunk runs again elsewhere and only its missing
samples are run. The retry policy is `govflow.evalruns.retry`.
"""

from __future__ import annotations

import logging

from billiard.exceptions import SoftTimeLimitExceeded
from celery import shared_task
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import InterfaceError, OperationalError

from evals.errors import EvalsError, RetryableEndpointError
from govflow.core.errors import DomainError
from govflow.evalruns.execution import execute_chunk
from govflow.evalruns.retry import describe, next_attempt
from govflow.evalruns.services import eval_run_complete, eval_run_fail, eval_run_plan

log = logging.getLogger(__name__)

# Retrying will not fix these: a missing key or endpoint, a changed scenario.
PERMANENT = (ImproperlyConfigured, EvalsError, DomainError)
# A database blip is worth a few quick retries of the same task.
DB_BLIPS = (OperationalError, InterfaceError)
SOFT_LIMIT = settings.GOVFLOW_EVAL_CHUNK_SOFT_TIME_LIMIT


@shared_task(name="govflow.evalruns.tasks.plan_eval_run", acks_late=True,
             reject_on_worker_lost=True, ignore_result=True, autoretry_for=DB_BLIPS,
             retry_backoff=True, max_retries=10)
def plan_eval_run(run_id: int) -> int:
    """Queue a chunk task per slice of the run's missing samples (none missing: complete)."""
    try:
        chunks = eval_run_plan(run_id=run_id)
    except PERMANENT as exc:
        eval_run_fail(run_id=run_id, reason=describe(exc))
        return 0
    if chunks == []:
        eval_run_complete(run_id=run_id)
    return len(chunks or [])


@shared_task(bind=True, name="govflow.evalruns.tasks.run_eval_chunk", acks_late=True,
             reject_on_worker_lost=True, ignore_result=True, autoretry_for=DB_BLIPS,
             retry_backoff=True, max_retries=settings.GOVFLOW_EVAL_MAX_ATTEMPTS,
             soft_time_limit=SOFT_LIMIT, time_limit=SOFT_LIMIT + 60)
def run_eval_chunk(self, run_id: int, keys: list, failures: int = 0,
                   last_reason: str | None = None, concurrency: int | None = None) -> str:
    """Run a chunk's missing samples; store what finished; retry, fail or complete."""
    concurrency = concurrency or settings.GOVFLOW_EVAL_CONCURRENCY
    try:
        outcome = execute_chunk(run_id=run_id, keys=keys, concurrency=concurrency)
    except PERMANENT as exc:
        eval_run_fail(run_id=run_id, reason=describe(exc))
        return "failed"
    except SoftTimeLimitExceeded:
        # Hit outside the sample loop (while storing): nothing finished is lost, go again.
        raise self.retry(args=[run_id, keys], countdown=0, kwargs={
            "failures": failures, "last_reason": last_reason, "concurrency": concurrency,
        }) from None
    if outcome.skipped:
        return outcome.skipped
    error = outcome.error
    if error is None:
        eval_run_complete(run_id=run_id)
        return "done"
    if not isinstance(error, (RetryableEndpointError, SoftTimeLimitExceeded)):
        # A failure nobody planned for: stop the run with the reason, keep the traceback.
        eval_run_fail(run_id=run_id, reason=describe(error))
        raise error
    reason = describe(error)
    decision = next_attempt(
        reason=reason, progressed=outcome.finished > 0, failures=failures,
        last_reason=last_reason, retry_after=getattr(error, "retry_after", None),
        status_code=getattr(error, "status_code", None), concurrency=concurrency,
        backoff=settings.GOVFLOW_EVAL_RETRY_BACKOFF_MS / 1000,
        max_delay=settings.GOVFLOW_EVAL_RETRY_MAX_DELAY,
        max_failures=settings.GOVFLOW_EVAL_MAX_IDENTICAL_FAILURES,
    )
    if decision.give_up:
        eval_run_fail(run_id=run_id, reason=f"gave up after {decision.failures} consecutive "
                                            f"identical failures: {reason}")
        return "gave up"
    if self.request.retries >= self.max_retries:
        eval_run_fail(run_id=run_id, reason=f"gave up after {self.request.retries} retries "
                                            f"of one chunk: {reason}")
        return "gave up"
    log.info("eval run %s chunk: %s; retry in %.2fs (streak %d, concurrency %d)", run_id,
             reason, decision.countdown, decision.failures, decision.concurrency)
    raise self.retry(args=[run_id, keys], countdown=decision.countdown, kwargs={
        "failures": decision.failures, "last_reason": reason,
        "concurrency": decision.concurrency,
    })
