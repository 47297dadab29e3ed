"""The cohort rules and the `cohort` gate's decision, as pure functions over plain facts.

The server (`rollout.selectors`, `rollout.gate`) applies them to its tables; the offline
verifier (`govflow.verify.replay.cohorts`) to the admissions, removals, growth approvals
and KYC records in the log. Written once so the two cannot drift apart. No Django.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from govflow.core.times import rfc3339
from govflow.rollout.membership import tree_root
from govflow.signoffs.tally import tally

KYC_LEVELS = ("basic", "standard", "enhanced")
VERIFIED = "verified"


def kyc_level_rank(level: str) -> int:
    return KYC_LEVELS.index(level)


@dataclass(frozen=True)
class CohortRules:
    stage: str
    cap: int
    kyc_level: str
    step: int | None
    step_approvals: dict[str, int]

    def limit_before_approval(self) -> int:
        return min(self.step or self.cap, self.cap)

    def step_for(self, size: int) -> int:
        """The policy step a cohort of ``size`` members must have been approved up to."""
        if self.step is None or size <= self.step:
            return min(size, self.cap)
        steps = -(-size // self.step)  # ceiling division
        return min(steps * self.step, self.cap)


class Kyc(Protocol):
    """A KYC record: the `KycRecord` row, or the verifier's logged one."""
    @property
    def provider(self) -> str: ...
    @property
    def level(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def verified_at(self) -> datetime: ...
    @property
    def expires_at(self) -> datetime: ...


@dataclass(frozen=True)
class KycFacts:
    provider: str
    level: str
    status: str
    verified_at: datetime
    expires_at: datetime


def kyc_problem(record: Kyc | None, *, level: str, now: datetime) -> str | None:
    """Why a customer's KYC does not hold at ``level`` now, or None when it does."""
    if record is None:
        return "has no KYC record"
    if record.status != VERIFIED:
        return f"KYC {record.status} by {record.provider}"
    if record.expires_at <= now:
        return f"KYC expired at {rfc3339(record.expires_at)}"
    if record.verified_at > now:
        return "KYC is not valid yet"
    if kyc_level_rank(record.level) < kyc_level_rank(level):
        return f"KYC level {record.level} is below the required {level}"
    return None


def approved_limit(approvals: Iterable[Mapping[str, Any]], rules: CohortRules) -> int:
    """The largest size the cohort may reach: the first step, or the largest step that the
    policy's `step_approvals` approved in signed statements, never the cap. ``approvals``:
    {up_to, signer, role, decision, order} in the order they were recorded."""
    limit = rules.limit_before_approval()
    if not rules.step_approvals:
        return limit
    by_step: dict[int, list[Mapping[str, Any]]] = {}
    for a in approvals:
        by_step.setdefault(a["up_to"], []).append(a)
    for up_to, statements in sorted(by_step.items()):
        met, _, _ = tally(statements, roles=rules.step_approvals, exclude_requester=False,
                          requester=None)
        if met and up_to > limit:
            limit = up_to
    return min(limit, rules.cap)


@dataclass(frozen=True)
class CohortFacts:
    id: int | None
    version: int
    # each active member: (salted leaf, its customer's KYC record in force, if any)
    members: list[tuple[str, Kyc | None]]
    approved_up_to: int


def cohort_gate(cohort: CohortFacts, rules: CohortRules, *, min_size: int,
                now: datetime) -> tuple[bool, str, dict[str, Any]]:
    """(met, reason, evidence) of a `cohort` gate."""
    stage = rules.stage
    members = sorted(cohort.members, key=lambda m: m[0])
    lacking = sorted(leaf for leaf, record in members
                     if kyc_problem(record, level=rules.kyc_level, now=now))
    limit, size = cohort.approved_up_to, len(members)
    # Evidence names members by salted leaf only, and holds no clock-dependent value but
    # the list of members lacking KYC (which changes only when a record expires).
    evidence = {
        "cohort": cohort.id,
        "cohort_version": cohort.version,
        "size": size,
        "cap": rules.cap,
        "approved_up_to": limit,
        "kyc_level": rules.kyc_level,
        "root": tree_root([bytes.fromhex(leaf) for leaf, _ in members]).hex(),
        "members_lacking_kyc": lacking,
    }
    if size < min_size:
        return False, (f"the {stage} cohort has {size} member(s); at least {min_size} "
                       "needed"), evidence
    if size > rules.cap:
        return False, (f"the {stage} cohort has {size} members, over its cap of "
                       f"{rules.cap}"), evidence
    if size > limit:
        return False, (f"the {stage} cohort has {size} members; signed approvals allow "
                       f"{limit}"), evidence
    if lacking:
        return False, (f"{len(lacking)} of {size} member(s) lack KYC in force at level "
                       f"{rules.kyc_level}"), evidence
    return True, (f"{size} member(s), cap {rules.cap}, each with KYC {rules.kyc_level} in "
                  "force"), evidence
