"""Reads of the rollout, scoped to what the acting user's organization may see.

- a lab sees its own customers, their KYC records and its releases' cohorts in full;
- a regulator sees every cohort's size, cap and signed snapshots (salted leaves), but no
  customer's id or name: confirming the cap needs neither;
- auditors and other labs see none of it (another lab's cohort is a 404).
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Max, QuerySet

from govflow.accounts.models import OrganizationKind
from govflow.accounts.selectors import user_organization
from govflow.core.times import rfc3339
from govflow.rollout.models import (
    Cohort,
    CohortMember,
    CohortSnapshot,
    Customer,
    GrowthApproval,
    KycRecord,
)
from govflow.rollout.policy import CohortRules
from govflow.signoffs.tally import tally


def _kind(user):
    org = user_organization(user)
    return org, (org.kind if org is not None else None)


def customers_visible_to(user) -> QuerySet[Customer]:
    org, kind = _kind(user)
    if kind == OrganizationKind.LAB:
        return Customer.objects.filter(organization=org)
    return Customer.objects.none()


def cohorts_visible_to(user) -> QuerySet[Cohort]:
    org, kind = _kind(user)
    qs = Cohort.objects.select_related("release")
    if kind == OrganizationKind.REGULATOR:
        return qs
    if kind == OrganizationKind.LAB:
        return qs.filter(release__organization=org)
    return qs.none()


def members_visible_to(user) -> QuerySet[CohortMember]:
    org, kind = _kind(user)
    if kind != OrganizationKind.LAB:
        return CohortMember.objects.none()
    return CohortMember.objects.filter(cohort__release__organization=org).select_related(
        "customer", "cohort"
    )


def snapshots_visible_to(user) -> QuerySet[CohortSnapshot]:
    return CohortSnapshot.objects.filter(cohort__in=cohorts_visible_to(user))


def latest_kyc(customer_ids) -> dict[int, KycRecord]:
    """Each customer's KYC record in force: the latest recorded."""
    latest = (KycRecord.objects.filter(customer_id__in=customer_ids).values("customer_id")
              .annotate(last=Max("id")).values("last"))
    return {r.customer_id: r for r in KycRecord.objects.filter(id__in=latest)}


def kyc_problem(record: KycRecord | None, *, level: str, now: datetime) -> str | None:
    """Why a customer's KYC does not hold at ``level`` now, or None when it does."""
    if record is None:
        return "has no KYC record"
    if record.status != "verified":
        return f"KYC {record.status} by {record.provider}"
    if record.expires_at <= now:
        return f"KYC expired at {rfc3339(record.expires_at)}"
    if record.verified_at > now:
        return "KYC is not valid yet"
    if not record.is_valid_at(now, level):
        return f"KYC level {record.level} is below the required {level}"
    return None


def active_members(cohort: Cohort) -> QuerySet[CohortMember]:
    return cohort.members.filter(removed_at__isnull=True)


def cohort_of(release, stage: str) -> Cohort | None:
    return Cohort.objects.filter(release=release, stage=stage).first()


def approved_limit(cohort: Cohort | None, rules: CohortRules) -> int:
    """The largest size the cohort may reach: the first step, or the largest step that
    the policy's `step_approvals` have approved in signed statements, never the cap."""
    limit = rules.limit_before_approval()
    if cohort is None or not rules.step_approvals:
        return limit
    by_step: dict[int, list[dict]] = {}
    for a in GrowthApproval.objects.filter(cohort=cohort).order_by("id"):
        by_step.setdefault(a.up_to, []).append(
            {"signer": a.signer_id, "role": a.role, "decision": a.decision, "order": a.pk}
        )
    for up_to, statements in sorted(by_step.items()):
        met, _, _ = tally(statements, roles=rules.step_approvals, exclude_requester=False,
                          requester=None)
        if met and up_to > limit:
            limit = up_to
    return min(limit, rules.cap)
