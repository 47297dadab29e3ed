"""Cohort facts from the log, and the `cohort` gate re-derived from them with the
server's decision code (`govflow.rollout.cohort_rule`).

Members come from `cohort.member_admitted` / `cohort.member_removed` (by salted leaf and
internal customer id), approved growth from the signed `cohort.growth_signed` statements
(stage, step, role and decision read from the envelope), KYC from each customer's latest
`kyc.recorded`, judged at the advance's logged time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from govflow.rollout.cohort_rule import (
    CohortFacts,
    CohortRules,
    KycFacts,
    approved_limit,
    cohort_gate,
)
from govflow.verify.replay.machine import Refused, parse_time
from govflow.verify.replay.signed import signed_predicate

if TYPE_CHECKING:
    from govflow.verify.replay.gates import Advance

TYPES = {"cohort.member_admitted", "cohort.member_removed", "cohort.growth_signed",
         "kyc.recorded"}


@dataclass
class LoggedCohort:
    id: int
    version: int = 0
    members: dict[str, int] = field(default_factory=dict)  # leaf -> customer, while active
    approvals: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class CohortLog:
    cohorts: dict[tuple[int, str], LoggedCohort] = field(default_factory=dict)  # (release, stage)
    kyc: dict[int, KycFacts] = field(default_factory=dict)  # customer -> latest record
    _order: int = 0

    def _cohort(self, body: dict[str, Any], stage: str) -> LoggedCohort:
        key = (body["release"], stage)
        cohort = self.cohorts.setdefault(key, LoggedCohort(id=body["payload"]["cohort"]))
        if cohort.id != body["payload"]["cohort"]:
            raise Refused("cohort", f"release {body['release']} has cohort {cohort.id} for "
                                    f"{stage}, the event names {body['payload']['cohort']}")
        return cohort

    def collect(self, body: dict[str, Any]) -> None:
        kind, payload = body["type"], body["payload"]
        self._order += 1
        if kind == "kyc.recorded":
            self.kyc[payload["customer"]] = KycFacts(
                provider=payload["provider"], level=payload["level"], status=payload["status"],
                verified_at=parse_time(payload["verified_at"]),
                expires_at=parse_time(payload["expires_at"]))
        elif kind == "cohort.growth_signed":
            claim = signed_predicate(body)
            cohort = self._cohort(body, claim["stage"])
            cohort.approvals.append({"up_to": claim["up_to"], "role": claim["role"],
                                     "decision": claim["decision"],
                                     "signer": (body["actor"] or {}).get("id"),
                                     "order": self._order})
        else:
            cohort = self._cohort(body, payload["stage"])
            if kind == "cohort.member_admitted":
                cohort.members[payload["leaf"]] = payload["customer"]
            elif cohort.members.pop(payload["leaf"], None) is None:
                raise Refused("cohort", f"removes member {payload['leaf']}, which is not in "
                                        f"cohort {cohort.id}")
            cohort.version = payload["cohort_version"]


def rederive_cohort(gate: dict[str, Any], advance: Advance) -> None:
    params, stage = gate["params"], advance.body["payload"]["to"]
    rules = CohortRules(stage=stage, cap=params["cap"], kyc_level=params["kyc_level"],
                        step=params["step"], step_approvals=params["step_approvals"] or {})
    log = advance.facts.cohorts
    cohort = log.cohorts.get((advance.state.release, stage))
    facts = CohortFacts(
        id=cohort.id if cohort else None, version=cohort.version if cohort else 0,
        members=[(leaf, log.kyc.get(customer))
                 for leaf, customer in (cohort.members.items() if cohort else [])],
        approved_up_to=approved_limit(cohort.approvals if cohort else [], rules))
    met, reason, evidence = cohort_gate(facts, rules, min_size=params["min_size"],
                                        now=advance.at)
    advance.compare(gate, met, reason, evidence)
