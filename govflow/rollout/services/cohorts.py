"""Admitting customers to a stage's cohort and removing them.

An admission is refused, with nothing written, unless every customer named is the lab's,
not already in the cohort and holds KYC in force at the level the stage's cohort gate
requires; and unless the cohort stays within its cap and within the largest policy step
approved in signed statements (govflow.rollout.services.growth). Each admission and each
removal is its own audit event, naming the member's salted leaf, never the customer's id.

Locks: the release first (the order every release service takes), then the cohort row,
so concurrent admissions to one cohort queue and the cap holds under concurrency.
"""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone

from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.core.errors import Conflict, NotFound, ValidationFailed, field_error
from govflow.core.tasks import enqueue_after_commit
from govflow.policy.selectors import policy_of
from govflow.releases.locks import lock_release
from govflow.releases.models import Release, ReleaseStatus
from govflow.rollout import cache
from govflow.rollout.membership import leaf_data
from govflow.rollout.models import Cohort, CohortMember, Customer
from govflow.rollout.policy import CohortRules, cohort_rules_in
from govflow.rollout.selectors import active_members, approved_limit, kyc_problem, latest_kyc


def stage_rules(release: Release, stage: str) -> CohortRules:
    policy = policy_of(release.policy)
    if policy.stage(stage) is None:
        raise field_error("stage", "unknown",
                          summary=f"the policy has no stage {stage!r}")
    rules = cohort_rules_in(policy, stage)
    if rules is None:
        raise field_error("stage", "not a cohort stage",
                          summary=f"stage {stage!r} has no cohort gate in the release's policy")
    if policy.index(stage) < policy.index(release.stage):
        raise Conflict(f"release {release.pk} is past {stage}; its cohort is closed",
                       detail={"rule": "stage_passed"})
    return rules


def lock_cohort(release: Release, stage: str) -> Cohort:
    """The (locked) cohort of a stage, created on first use. The caller holds the
    release's lock, so two first admissions cannot both create it."""
    cohort = Cohort.objects.select_for_update().filter(release=release, stage=stage).first()
    if cohort is None:
        cohort = Cohort.objects.create(release=release, stage=stage, created_at=timezone.now())
    return cohort


def _after_change(cohort: Cohort, external_ids: list[str]) -> None:
    from govflow.rollout.tasks import publish_snapshot

    transaction.on_commit(lambda: cache.invalidate_customers(external_ids), robust=True)
    enqueue_after_commit(publish_snapshot, cohort.pk)


@transaction.atomic
def cohort_admit(*, release_id: int, stage: str, external_ids: list[str],
                 actor) -> list[CohortMember]:
    release = lock_release(release_id)
    if release.status == ReleaseStatus.HALTED:
        raise Conflict(f"release {release.pk} is halted")
    rules = stage_rules(release, stage)
    if len(set(external_ids)) != len(external_ids) or not external_ids:
        raise ValidationFailed("name each customer once", detail={"fields": [
            {"path": "customers", "message": "a non-empty list without repeats"}]})
    customers = {c.external_id: c for c in Customer.objects.filter(
        organization_id=release.organization_id, external_id__in=external_ids)}
    unknown = [e for e in external_ids if e not in customers]
    if unknown:
        raise NotFound(f"no such customers of the lab: {', '.join(unknown[:10])}",
                       detail={"customers": unknown})
    cohort = lock_cohort(release, stage)
    present = set(active_members(cohort).filter(customer__in=customers.values())
                  .values_list("customer__external_id", flat=True))
    if present:
        raise Conflict(f"already in the cohort: {', '.join(sorted(present)[:10])}",
                       detail={"rule": "already_member", "customers": sorted(present)})
    now = timezone.now()
    records = latest_kyc([c.pk for c in customers.values()])
    refused = {e: p for e in external_ids
               if (p := kyc_problem(records.get(customers[e].pk), level=rules.kyc_level,
                                    now=now))}
    if refused:
        raise Conflict(f"{len(refused)} customer(s) lack KYC in force at level "
                       f"{rules.kyc_level}", detail={"rule": "kyc", "customers": refused})
    size = active_members(cohort).count()
    new_size = size + len(external_ids)
    if new_size > rules.cap:
        raise Conflict(f"the cohort would have {new_size} members; the policy's cap for "
                       f"{stage} is {rules.cap}", detail={"rule": "cap_exceeded",
                                                          "size": size, "cap": rules.cap})
    limit = approved_limit(cohort, rules)
    if new_size > limit:
        step = rules.step_for(new_size)
        raise Conflict(
            f"the cohort would have {new_size} members; growth is approved up to {limit}. "
            f"Growing to {step} needs signed approvals from {rules.step_approvals}",
            detail={"rule": "growth_not_approved", "size": size, "approved_up_to": limit,
                    "step": step, "approvals": rules.step_approvals},
        )
    members = []
    for external_id in external_ids:
        salt = secrets.token_hex(16)
        member = CohortMember.objects.create(
            cohort=cohort, customer=customers[external_id], salt=salt,
            leaf=leaf_data(salt, external_id).hex(), admitted_at=now, admitted_by=actor,
        )
        size += 1
        cohort.version += 1
        audit_append(event_type=EventType.COHORT_MEMBER_ADMITTED, actor=actor, subject=member,
                     organization_id=release.organization_id, release_id=release.pk,
                     payload={"cohort": cohort.pk, "stage": stage,
                              "customer": customers[external_id].pk, "leaf": member.leaf,
                              "size": size, "cap": rules.cap,
                              "cohort_version": cohort.version})
        members.append(member)
    cohort.save(update_fields=["version"])
    _after_change(cohort, external_ids)
    return members


@transaction.atomic
def cohort_remove(*, release_id: int, stage: str, external_id: str, reason: str,
                  actor) -> CohortMember:
    release = lock_release(release_id)
    if not reason.strip():
        raise ValidationFailed("a removal needs a reason", detail={"fields": [
            {"path": "reason", "message": "may not be blank"}]})
    cohort = Cohort.objects.select_for_update().filter(release=release, stage=stage).first()
    member = None
    if cohort is not None:
        member = (active_members(cohort).select_for_update(of=("self",))
                  .filter(customer__external_id=external_id).first())
    if member is None:
        raise NotFound(f"{external_id!r} is not in the {stage} cohort of release {release.pk}")
    now = timezone.now()
    member.removed_at, member.removed_by, member.removal_reason = now, actor, reason
    member.save(update_fields=["removed_at", "removed_by", "removal_reason"])
    cohort.version += 1
    cohort.save(update_fields=["version"])
    audit_append(event_type=EventType.COHORT_MEMBER_REMOVED, actor=actor, subject=member,
                 organization_id=release.organization_id, release_id=release.pk,
                 payload={"cohort": cohort.pk, "stage": stage, "customer": member.customer_id,
                          "leaf": member.leaf, "reason": reason,
                          "size": active_members(cohort).count(),
                          "cohort_version": cohort.version})
    _after_change(cohort, [external_id])
    return member
