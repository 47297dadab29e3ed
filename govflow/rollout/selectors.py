"""Reads of the rollout, scoped to what the acting user's organization may see.

- a lab sees its own customers, their KYC records and its releases' cohorts in full;
- a regulator sees every cohort's size, cap and signed snapshots (salted leaves), but no
  customer's id or name: confirming the cap needs neither;
- auditors and other labs see none of it (another lab's cohort is a 404).
"""

from __future__ import annotations

from django.db.models import Max, QuerySet

from govflow.accounts.models import OrganizationKind
from govflow.accounts.selectors import user_organization
from govflow.rollout import cohort_rule
from govflow.rollout.cohort_rule import kyc_problem  # noqa: F401 (the rule, read from here)
from govflow.rollout.models import (
    Cohort,
    CohortMember,
    CohortSnapshot,
    Customer,
    GrowthApproval,
    KycRecord,
)
from govflow.rollout.policy import CohortRules


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


def active_members(cohort: Cohort) -> QuerySet[CohortMember]:
    return cohort.members.filter(removed_at__isnull=True)


def cohort_of(release, stage: str) -> Cohort | None:
    return Cohort.objects.filter(release=release, stage=stage).first()


def approved_limit(cohort: Cohort | None, rules: CohortRules) -> int:
    """The largest size the cohort may reach (`cohort_rule.approved_limit`), from its
    signed growth approvals."""
    if cohort is None:
        return rules.limit_before_approval()
    return cohort_rule.approved_limit(
        ({"up_to": a.up_to, "signer": a.signer_id, "role": a.role, "decision": a.decision,
          "order": a.pk} for a in GrowthApproval.objects.filter(cohort=cohort).order_by("id")),
        rules)
