"""What a release's policy says about who may use the system in each stage.

The rules live where the policy author reads them: as parameters of the `cohort` gate of
the stage the cohort is for (its cap, the KYC level, the growth step and who must sign
to pass a step). Who may use a release in its current stage follows from the same gates:

- a stage with a `cohort` gate serves only its cohort (an allowlist);
- a stage after one that had a cohort gate is general availability: open to anyone;
- a stage before any cohort gate serves nobody but the assigned auditors' grants.

The grants of auditors assigned to the release are honoured in every stage while they
are in force; they exist only during the audit engagement.
"""

from __future__ import annotations

from govflow.policy.document import Policy
from govflow.policy.selectors import policy_of
from govflow.rollout import cohort_rule

COHORT = "cohort"
COHORT_MODE = "cohort"
OPEN_MODE = "open"
CLOSED_MODE = "closed"


# The rules themselves are Django-free (`rollout.cohort_rule`), shared with the verifier.
CohortRules = cohort_rule.CohortRules


def cohort_rules_in(policy: Policy, stage: str) -> CohortRules | None:
    spec = policy.stage(stage)
    if spec is None:
        return None
    gates = [g.params for g in spec.gates if g.kind == COHORT]
    if not gates:
        return None
    # Several cohort gates on one stage all hold at once: take the strictest.
    return CohortRules(
        stage=stage,
        cap=min(p["cap"] for p in gates),
        kyc_level=max((p["kyc_level"] for p in gates), key=cohort_rule.kyc_level_rank),
        step=min((p["step"] for p in gates if p["step"]), default=None),
        step_approvals=next((p["step_approvals"] for p in gates if p["step_approvals"]), {}),
    )


def cohort_rules(release, stage: str) -> CohortRules | None:
    return cohort_rules_in(policy_of(release.policy), stage)


def access_mode(policy: Policy, stage: str) -> str:
    if cohort_rules_in(policy, stage) is not None:
        return COHORT_MODE
    earlier = policy.stage_names[: policy.index(stage)]
    if any(cohort_rules_in(policy, name) is not None for name in earlier):
        return OPEN_MODE
    return CLOSED_MODE
