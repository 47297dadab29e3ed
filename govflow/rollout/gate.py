"""Gate kind `cohort`: the stage's cohort is within its cap, within the growth its signed
approvals allow, and every member holds KYC in force at the required level.

    - kind: cohort
      cap: 1000                 # never more members than this
      kyc_level: standard       # basic < standard < enhanced
      step: 250                 # growing past 250, 500, 750 needs signed approvals ...
      step_approvals: {safety_officer: 1, lab_signer: 1}   # ... from these roles
      min_size: 1

The cohort is the one of the stage this gate guards (the stage being entered). Admission
already refuses anything that would break these rules; the gate re-checks them at the
moment of entry, when KYC records may have expired since.
"""

from __future__ import annotations

from govflow.gates.params import Param
from govflow.gates.registry import GateKind, GateResult
from govflow.rollout.cohort_rule import KYC_LEVELS


def check(params) -> list[tuple[str, str]]:
    from govflow.accounts.access import LAB_STAFF

    problems = []
    step, cap = params["step"], params["cap"]
    if step is not None and step >= cap:
        problems.append(("step", f"must be below the cap ({cap})"))
    approvals = params["step_approvals"] or {}
    if step is not None and not approvals:
        problems.append(("step_approvals", "name who approves growth past a step, e.g. "
                                           "{safety_officer: 1}"))
    roles = LAB_STAFF
    for role, count in approvals.items():
        if role not in roles:
            problems.append((f"step_approvals.{role}",
                             f"not a lab role; roles: {', '.join(sorted(roles))}"))
        elif isinstance(count, bool) or not isinstance(count, int) or count < 1:
            problems.append((f"step_approvals.{role}", "must be a whole number, at least 1"))
    return problems


def evaluate(params, ctx) -> GateResult:
    from govflow.rollout.cohort_rule import CohortFacts, CohortRules, cohort_gate
    from govflow.rollout.selectors import active_members, approved_limit, cohort_of, latest_kyc

    rules = CohortRules(stage=ctx.target.name, cap=params["cap"], kyc_level=params["kyc_level"],
                        step=params["step"], step_approvals=params["step_approvals"] or {})
    cohort = cohort_of(ctx.release, rules.stage)
    members = list(active_members(cohort)) if cohort else []
    records = latest_kyc([m.customer_id for m in members])
    facts = CohortFacts(id=cohort.pk if cohort else None,
                        version=cohort.version if cohort else 0,
                        members=[(m.leaf, records.get(m.customer_id)) for m in members],
                        approved_up_to=approved_limit(cohort, rules))
    met, reason, evidence = cohort_gate(facts, rules, min_size=params["min_size"], now=ctx.now)
    return GateResult(met, reason, evidence)


KIND = GateKind(
    name="cohort",
    description="The stage's cohort is within its cap and approved growth, and every member "
                "holds KYC in force at the required level.",
    params={
        "cap": Param("int", required=False, default=1000, minimum=1,
                     help="most members the cohort may ever have"),
        "kyc_level": Param("str", required=False, default="standard", choices=KYC_LEVELS),
        "step": Param("int", required=False, default=None, minimum=1,
                      help="growing past each multiple of this needs signed approvals"),
        "step_approvals": Param("mapping", required=False, default=None,
                                help="role -> approvals needed per step, e.g. "
                                     "{safety_officer: 1}"),
        "min_size": Param("int", required=False, default=1, minimum=0),
    },
    evaluate=evaluate,
    check=check,
)
