"""Authorisation for eval runs: see first (else 404), then role (else 403)."""

from __future__ import annotations

from django.http import Http404

from govflow.accounts.models import Role
from govflow.accounts.selectors import user_organization, user_roles
from govflow.core.errors import PermissionDenied
from govflow.evalruns.models import EvalRun
from govflow.evalruns.selectors import eval_runs_visible_to
from govflow.releases.access import access_release_action

# Lab staff of the lab that owns the release start and resume its runs.
LAB_STAFF = (Role.RELEASE_MANAGER, Role.LAB_SIGNER, Role.SAFETY_OFFICER)


def access_eval_run(user, run_id: int) -> EvalRun:
    run = eval_runs_visible_to(user).filter(pk=run_id).first()
    if run is None:
        raise Http404
    return run


def access_eval_run_start(user, release_id: int):
    return access_release_action(user, release_id, LAB_STAFF)


def access_eval_run_action(user, run_id: int) -> EvalRun:
    run = access_eval_run(user, run_id)
    org = user_organization(user)
    if org is None or org.pk != run.release.organization_id or not (
        set(LAB_STAFF) & user_roles(user)
    ):
        raise PermissionDenied("this action needs a lab role (release_manager, lab_signer or "
                               "safety_officer) in the lab that owns the release")
    return run
