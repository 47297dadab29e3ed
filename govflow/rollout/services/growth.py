"""Signed approvals to grow a cohort past a policy step.

The statement (govflow.rollout.growth) is signed on the signer's machine with their
registered key and verified with the sign-offs' rules (govflow.keys.verification): a
usable key of the submitter, never their claimed time. It is recorded only if the signer
holds the stated role in the release's lab, the policy's `step_approvals` lists that
role, the step is a real step above the first and within the cap, the statement is
about the release's current system version, and its nonce is new.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from govflow.accounts.selectors import user_organization, user_roles
from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.core.errors import Conflict, PermissionDenied, ValidationFailed
from govflow.keys.models import SigningKey
from govflow.keys.verification import verify_user_envelope
from govflow.releases.locks import lock_release
from govflow.releases.models import Release
from govflow.rollout.growth import (
    PAYLOAD_TYPE,
    GrowthClaim,
    GrowthStatementError,
    build_statement,
    parse_statement,
)
from govflow.rollout.models import GrowthApproval
from govflow.rollout.policy import CohortRules
from govflow.rollout.services.cohorts import lock_cohort, stage_rules
from govflow.signoffs.statement import subject_name


def _check_step(rules: CohortRules, up_to: int) -> None:
    first = rules.limit_before_approval()
    if rules.step is None or not rules.step_approvals:
        raise Conflict(f"the policy sets no growth steps for {rules.stage}; the cohort may "
                       f"grow to its cap ({rules.cap}) without approvals",
                       detail={"rule": "no_steps"})
    if up_to <= first or up_to > rules.cap or (up_to % rules.step and up_to != rules.cap):
        raise ValidationFailed(
            f"up_to must be a step above {first}: a multiple of {rules.step}, or the cap "
            f"{rules.cap}", detail={"fields": [{"path": "up_to", "message": "not a step"}]})


def _check_role(actor, release: Release, role: str, rules: CohortRules) -> None:
    org = user_organization(actor)
    if org is None or org.pk != release.organization_id or role not in user_roles(actor):
        raise PermissionDenied(f"you do not hold the role {role!r} in the release's lab",
                               detail={"rule": "role"})
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
    return build_statement(
        release=release.pk, stage=stage, up_to=up_to,
        system_id=version.system_id, version_number=version.number,
        manifest_digest=version.manifest_digest, role=role, decision=decision,
        comment=comment, nonce=secrets.token_urlsafe(24),
    )


@dataclass(frozen=True)
class VerifiedGrowth:
    envelope: dict[str, Any]
    statement: dict[str, Any]
    claim: GrowthClaim
    key: SigningKey


def growth_verify(*, envelope: Any, actor, now: datetime) -> VerifiedGrowth:
    verified = verify_user_envelope(envelope, actor, now=now, payload_type=PAYLOAD_TYPE)
    try:
        statement, claim = parse_statement(verified.payload)
    except GrowthStatementError as exc:
        raise ValidationFailed(f"not a cohort-growth statement: {exc}", detail={"fields": [
            {"path": f"envelope.payload: {exc.path}", "message": exc.message}]}) from exc
    kept = {"payload": envelope["payload"], "payloadType": envelope["payloadType"],
            "signatures": [{"keyid": s.get("keyid", ""), "sig": s["sig"]}
                           for s in envelope["signatures"]]}
    return VerifiedGrowth(envelope=kept, statement=statement, claim=claim, key=verified.key)


@transaction.atomic
def growth_record(*, verified: VerifiedGrowth, actor) -> GrowthApproval:
    claim = verified.claim
    now = timezone.now()
    release = lock_release(claim.release)
    rules = stage_rules(release, claim.stage)
    _check_step(rules, claim.up_to)
    _check_role(actor, release, claim.role, rules)
    key = SigningKey.objects.select_for_update().get(pk=verified.key.pk)
    if not key.is_usable_at(now):
        raise Conflict(f"key {key.key_id} was revoked or expired just now; sign again",
                       detail={"rule": "key_revoked"})
    version = release.system_version
    current = (subject_name(version.system_id, version.number), version.manifest_digest)
    if (claim.subject_name, claim.manifest_digest) != current:
        raise Conflict(f"the statement is about {claim.subject_name}, but release "
                       f"{release.pk} is now {current[0]}", detail={"rule": "stale"})
    cohort = lock_cohort(release, claim.stage)
    if GrowthApproval.objects.filter(nonce=claim.nonce).exists():
        raise Conflict("replayed statement: its nonce was already used",
                       detail={"rule": "replayed"})
    try:
        with transaction.atomic():
            approval = GrowthApproval.objects.create(
                cohort=cohort, up_to=claim.up_to, signer=actor, key=key, role=claim.role,
                decision=claim.decision, comment=claim.comment, nonce=claim.nonce,
                claimed_signed_at=claim.signed_at, envelope=verified.envelope,
                statement=verified.statement, recorded_at=now,
            )
    except IntegrityError as exc:
        raise Conflict("replayed statement: its nonce was already used",
                       detail={"rule": "replayed"}) from exc
    audit_append(
        event_type=EventType.COHORT_GROWTH_SIGNED, actor=actor, subject=approval,
        organization_id=release.organization_id, release_id=release.pk,
        payload={"cohort": cohort.pk, "stage": claim.stage, "up_to": claim.up_to,
                 "role": claim.role, "decision": claim.decision, "key_id": key.key_id,
                 "nonce": claim.nonce, "envelope": verified.envelope,
                 "statement": verified.statement},
    )
    return approval
