"""What a release's policy says about its third-party audit.

The configuration lives where the policy author reads it: as parameters of the
`third_party_audit` and `open_findings` gates of the stage the release is about to
enter (its risk areas, the limit on consecutive engagements with one lab, and where a
failed conclusion or a critical finding sends the release back). A release is "in its
third-party audit stage" while the next stage it would enter has a `third_party_audit`
gate.
"""

from __future__ import annotations

from dataclasses import dataclass

from govflow.policy.selectors import policy_of

THIRD_PARTY_AUDIT = "third_party_audit"
OPEN_FINDINGS = "open_findings"


@dataclass(frozen=True)
class AuditRules:
    current_stage: str
    entering: str | None  # the stage whose gates these are
    audited: bool  # the next stage has a third_party_audit gate
    risk_areas: tuple[str, ...] = ()
    max_consecutive: int | None = None
    on_fail_return_to: str | None = None
    on_critical_return_to: str | None = None
    stage_order: tuple[str, ...] = ()

    def is_before_current(self, stage: str | None) -> bool:
        """Whether ``stage`` is a stage the release can be sent back to from where it is."""
        order = list(self.stage_order)
        return stage in order and order.index(stage) < order.index(self.current_stage)


def audit_rules(release) -> AuditRules:
    policy = policy_of(release.policy)
    following = policy.next_stage(release.stage)
    order = tuple(policy.stage_names)
    if following is None:
        return AuditRules(release.stage, None, False, stage_order=order)
    audits = [g.params for g in following.gates if g.kind == THIRD_PARTY_AUDIT]
    findings = [g.params for g in following.gates if g.kind == OPEN_FINDINGS]
    # Several gates of a kind on one stage all hold at once: the union of their risk
    # areas, the strictest limit, and the first return stage the author named.
    areas = sorted({area for params in audits for area in params["risk_areas"]})
    limits = [p["max_consecutive_releases"] for p in audits if p["max_consecutive_releases"]]
    on_fail = next((p["on_fail_return_to"] for p in audits if p["on_fail_return_to"]), None)
    on_critical = next(
        (p["on_critical_return_to"] for p in findings if p["on_critical_return_to"]), None
    )
    return AuditRules(
        current_stage=release.stage, entering=following.name, audited=bool(audits),
        risk_areas=tuple(areas), max_consecutive=min(limits) if limits else None,
        on_fail_return_to=on_fail, on_critical_return_to=on_critical, stage_order=order,
    )
