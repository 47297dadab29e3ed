"""A finding's lifecycle: which party may append which statement, from which status,
and the status it leaves behind. Pure: the service applies it under the finding's lock.

    open ──respond──▶ lab_responded ──resolve (filing auditor)──▶ resolved
      │                   │ └─accept_risk──▶ risk_accepted              (info … medium)
      │                   │ └─accept_risk──▶ risk_acceptance_requested  (high, critical)
      │                   │                     └─decide (regulator)──▶ risk_accepted | open
      └──dispute──────────┴──▶ disputed ──escalate──▶ escalated
                                  └─resolve              └─decide (regulator)──▶
                                                            resolved | risk_accepted | open

An amendment by the filing auditor may come at any status short of closed, and may
change the severity; it leaves the status as it was. A decision of `upheld` reopens the
finding: it stands, and the lab has to fix it.
"""

from __future__ import annotations

from govflow.auditing.predicates import severity_rank

LAB, AUDITOR, REGULATOR = "lab", "auditor", "regulator"

OPEN, RESPONDED, ACCEPTANCE_REQUESTED = "open", "lab_responded", "risk_acceptance_requested"
DISPUTED, ESCALATED, RESOLVED, ACCEPTED = "disputed", "escalated", "resolved", "risk_accepted"
UNCLOSED = (OPEN, RESPONDED, ACCEPTANCE_REQUESTED, DISPUTED, ESCALATED)

# action: (parties that may append it, statuses it may follow)
RULES: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "respond": (frozenset({LAB}), (OPEN, RESPONDED)),
    "amend": (frozenset({AUDITOR}), UNCLOSED),
    "resolve": (frozenset({AUDITOR}), (OPEN, RESPONDED, DISPUTED)),
    "accept_risk": (frozenset({LAB}), (RESPONDED,)),
    "dispute": (frozenset({LAB}), (OPEN, RESPONDED)),
    "escalate": (frozenset({LAB, AUDITOR}), (DISPUTED,)),
    "decide": (frozenset({REGULATOR}), (ESCALATED, ACCEPTANCE_REQUESTED)),
}
# The lab's roles that may accept a risk on its behalf (any lab staff may respond).
RISK_ACCEPTING_ROLES = frozenset({"release_manager", "safety_officer"})
# From a pending risk acceptance the regulator approves it or sends the finding back.
_DECISIONS = {ESCALATED: {"upheld": OPEN, "resolved": RESOLVED, "risk_accepted": ACCEPTED},
              ACCEPTANCE_REQUESTED: {"upheld": OPEN, "risk_accepted": ACCEPTED}}


class LifecycleError(ValueError):
    """The action does not follow from the finding's current status."""


def parties_for(action: str) -> frozenset[str]:
    return RULES[action][0]


def next_status(*, action: str, status: str, severity: str, outcome: str | None) -> str:
    parties, allowed = RULES[action]
    if status not in allowed:
        raise LifecycleError(
            f"a finding that is {status} cannot take '{action}' "
            f"(it follows: {', '.join(allowed)})"
        )
    if action == "respond":
        return RESPONDED
    if action == "amend":
        return status
    if action == "resolve":
        return RESOLVED
    if action == "accept_risk":
        # High and critical findings need the regulator's signed approval as well.
        return ACCEPTANCE_REQUESTED if severity_rank(severity) >= severity_rank("high") \
            else ACCEPTED
    if action == "dispute":
        return DISPUTED
    if action == "escalate":
        return ESCALATED
    outcomes = _DECISIONS[status]
    if outcome not in outcomes:
        raise LifecycleError(f"a decision on a finding that is {status} is one of: "
                             + ", ".join(outcomes))
    return outcomes[outcome]
