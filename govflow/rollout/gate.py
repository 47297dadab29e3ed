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
from govflow.rollout.models import KYC_LEVELS


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
    from govflow.rollout.membership import tree_root
    from govflow.rollout.policy import CohortRules
    from govflow.rollout.selectors import (
        active_members,
        approved_limit,
        cohort_of,
        kyc_problem,
        latest_kyc,
    )

    stage = ctx.target.name
    rules = CohortRules(stage=stage, cap=params["cap"], kyc_level=params["kyc_level"],
                        step=params["step"], step_approvals=params["step_approvals"] or {})
    cohort = cohort_of(ctx.release, stage)
    members = list(active_members(cohort).order_by("leaf")) if cohort else []
    records = latest_kyc([m.customer_id for m in members])
    lacking = sorted(m.leaf for m in members
                     if kyc_problem(records.get(m.customer_id), level=rules.kyc_level,
                                    now=ctx.now))
    limit = approved_limit(cohort, rules)
    size = len(members)
    # Evidence names members by salted leaf only, and holds no clock-dependent value but
    # the list of members lacking KYC (which changes only when a record expires).
    evidence = {
        "cohort": cohort.pk if cohort else None,
        "cohort_version": cohort.version if cohort else 0,
        "size": size,
        "cap": rules.cap,
        "approved_up_to": limit,
        "kyc_level": rules.kyc_level,
        "root": tree_root([bytes.fromhex(m.leaf) for m in members]).hex(),
        "members_lacking_kyc": lacking,
    }
    if size < params["min_size"]:
        return GateResult(False, f"the {stage} cohort has {size} member(s); at least "
                                 f"{params['min_size']} needed", evidence)
    if size > rules.cap:
        return GateResult(False, f"the {stage} cohort has {size} members, over its cap of "
                                 f"{rules.cap}", evidence)
    if size > limit:
        return GateResult(False, f"the {stage} cohort has {size} members; signed approvals "
                                 f"allow {limit}", evidence)
    if lacking:
        return GateResult(False, f"{len(lacking)} of {size} member(s) lack KYC in force at "
                                 f"level {rules.kyc_level}", evidence)
    return GateResult(True, f"{size} member(s), cap {rules.cap}, each with KYC "
                            f"{rules.kyc_level} in force", evidence)


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
