"""Whether someone may use a release's system right now, from the database.

The serving gateway asks through `GET /api/access/check` (govflow.rollout.api.check),
which answers from the cache when it can and from here when it cannot. Every rule is
the policy's (govflow.rollout.policy): the release must be active (or complete), and in
a cohort stage the customer must be an admitted member with KYC in force at the level
the stage's cohort gate requires. Auditors are checked against their access grants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from govflow.core.times import rfc3339
from govflow.policy.selectors import policy_of
from govflow.releases.models import Release, ReleaseStatus
from govflow.rollout.models import CohortMember, Customer, KycRecord
from govflow.rollout.policy import CLOSED_MODE, OPEN_MODE, access_mode, cohort_rules_in
from govflow.rollout.selectors import kyc_problem

SERVING_STATUSES = (ReleaseStatus.ACTIVE, ReleaseStatus.COMPLETED)


@dataclass(frozen=True)
class Decision:
    allow: bool
    reason: str
    until: datetime | None = None  # when the decision lapses by itself (a KYC expiry)


def _not_serving(release: Release) -> Decision | None:
    if release.status not in SERVING_STATUSES:
        return Decision(False, f"release {release.pk} is {release.status}")
    return None


def decide_customer(release: Release, external_id: str, *, now: datetime) -> Decision:
    refused = _not_serving(release)
    if refused is not None:
        return refused
    policy = policy_of(release.policy)
    mode = access_mode(policy, release.stage)
    if mode == OPEN_MODE:
        return Decision(True, f"{release.stage}: generally available")
    if mode == CLOSED_MODE:
        return Decision(False, f"{release.stage}: not released to customers")
    rules = cohort_rules_in(policy, release.stage)
    # Each an index lookup (the customer by its unique external id, then the membership),
    # whatever the planner's statistics say about the tables' sizes.
    customer_id = (Customer.objects.filter(organization_id=release.organization_id,
                                           external_id=external_id)
                   .values_list("id", flat=True).first())
    if customer_id is None:
        return Decision(False, "no such customer of the lab")
    if not CohortMember.objects.filter(cohort__release=release, cohort__stage=release.stage,
                                       customer_id=customer_id,
                                       removed_at__isnull=True).exists():
        return Decision(False, f"not in the {release.stage} cohort")
    record = KycRecord.objects.filter(customer_id=customer_id).order_by("-id").first()
    problem = kyc_problem(record, level=rules.kyc_level, now=now)
    if problem is not None:
        return Decision(False, problem)
    return Decision(True, f"in the {release.stage} cohort; KYC {record.level} valid until "
                          f"{rfc3339(record.expires_at)}",
                    until=record.expires_at)


def decide_auditor(release: Release, username: str, *, now: datetime) -> Decision:
    refused = _not_serving(release)
    if refused is not None:
        return refused
    from govflow.auditing.models import AccessGrant

    grant = (AccessGrant.objects.in_force(now)
             .filter(release=release, grantee__username=username)
             .order_by("-valid_until").first())
    if grant is None:
        return Decision(False, "no access grant in force for this auditor")
    return Decision(True, f"assigned auditor: {grant.access_level} access until "
                          f"{rfc3339(grant.valid_until)}",
                    until=grant.valid_until)
