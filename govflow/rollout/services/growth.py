"""Signed approvals to grow a cohort past a policy step.

The statement (govflow.rollout.predicates) is signed on the signer's machine with their
registered key and run by the kernel (govflow.keys.acts): a usable key of the submitter,
never their claimed time, a nonce never used. It is recorded only if the signer
holds the stated role in the release's lab, the policy's `step_approvals` lists that
role, the step is a real step above the first and within the cap, the statement is
about the release's current system version.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from govflow.accounts.access import require_lab_role
from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.core.errors import Conflict, PermissionDenied, field_error
from govflow.keys.acts import release_subject, subject_check
from govflow.keys.verification import Verified
from govflow.releases.locks import lock_release
from govflow.releases.models import Release
from govflow.rollout.models import GrowthApproval
from govflow.rollout.policy import CohortRules
from govflow.rollout.predicates import GrowthClaim, build_growth
from govflow.rollout.services.cohorts import lock_cohort, stage_rules
from govflow.trust.statements import new_nonce


def _check_step(rules: CohortRules, up_to: int) -> None:
    first = rules.limit_before_approval()
    if rules.step is None or not rules.step_approvals:
        raise Conflict(f"the policy sets no growth steps for {rules.stage}; the cohort may "
                       f"grow to its cap ({rules.cap}) without approvals",
                       detail={"rule": "no_steps"})
    if up_to <= first or up_to > rules.cap or (up_to % rules.step and up_to != rules.cap):
        raise field_error("up_to", "not a step",
                          summary=f"up_to must be a step above {first}: a multiple of "
                          f"{rules.step}, or the cap {rules.cap}")


def _check_role(actor, release: Release, role: str, rules: CohortRules) -> None:
    require_lab_role(actor, release.organization_id, (role,), what=f"approving growth as {role!r}")
    if role not in rules.step_approvals:
        raise PermissionDenied(f"the policy does not ask {role!r} to approve growth; it asks "
                               f"{', '.join(sorted(rules.step_approvals))}",
                               detail={"rule": "role"})


def growth_statement(*, release: Release, stage: str, up_to: int, role: str, decision: str,
                     comment: str, actor) -> dict[str, Any]:
    """The statement to sign, with a fresh nonce. Changes nothing."""
    rules = stage_rules(release, stage)
    _check_step(rules, up_to)
    _check_role(actor, release, role, rules)
    version = release.system_version
    return build_growth(
        release=release.pk, stage=stage, up_to=up_to,
        system_id=version.system_id, version_number=version.number,
        manifest_digest=version.manifest_digest, role=role, decision=decision,
        comment=comment, nonce=new_nonce(),
    )


def growth_record(*, verified: Verified, actor, now: datetime, target=None,
                  context=None) -> GrowthApproval:
    """Inside the kernel's recording transaction (`govflow.keys.acts`)."""
    claim: GrowthClaim = verified.claim
    release = lock_release(claim.release)
    rules = stage_rules(release, claim.stage)
    _check_step(rules, claim.up_to)
    _check_role(actor, release, claim.role, rules)
    subject_check(verified, release_subject(release), release.pk, rule="stale")
    cohort = lock_cohort(release, claim.stage)
    approval = GrowthApproval.objects.create(
        cohort=cohort, up_to=claim.up_to, signer=actor, key=verified.key, role=claim.role,
        decision=claim.decision, comment=claim.comment, nonce=claim.nonce,
        claimed_signed_at=claim.signed_at, envelope=verified.envelope,
        statement=verified.statement, recorded_at=now,
    )
    audit_append(
        event_type=EventType.COHORT_GROWTH_SIGNED, actor=actor, subject=approval,
        organization_id=release.organization_id, release_id=release.pk,
        payload={"cohort": cohort.pk, "stage": claim.stage, "up_to": claim.up_to,
                 "role": claim.role, "decision": claim.decision, "key_id": verified.key.key_id,
                 "nonce": claim.nonce, "envelope": verified.envelope,
                 "statement": verified.statement},
    )
    return approval
