"""Authorisation for eval runs: see first (else 404), then role (else 403)."""

from __future__ import annotations

from govflow.accounts.access import LAB_STAFF, require_lab_role, visible_or_404
from govflow.evalruns.models import EvalRun
from govflow.evalruns.selectors import eval_runs_visible_to
from govflow.releases.access import access_release_action


def access_eval_run(user, run_id: int) -> EvalRun:
    return visible_or_404(eval_runs_visible_to(user), run_id)


def access_eval_run_start(user, release_id: int):
    # Lab staff of the lab that owns the release start and resume its runs.
    return access_release_action(user, release_id, LAB_STAFF)


def access_eval_run_action(user, run_id: int) -> EvalRun:
    run = access_eval_run(user, run_id)
    require_lab_role(user, run.release.organization_id, LAB_STAFF)
    return run
