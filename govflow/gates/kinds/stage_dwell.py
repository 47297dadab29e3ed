"""Gate kind `stage_dwell`: a minimum time spent in the stage before this one."""

from __future__ import annotations

from datetime import timedelta

from govflow.core.times import rfc3339
from govflow.gates.params import Param
from govflow.gates.registry import GateKind, GateResult


def check(params) -> list[tuple[str, str]]:
    if not params.get("min_days") and not params.get("min_hours"):
        return [("", "stage_dwell needs min_days or min_hours greater than zero")]
    return []


def evaluate(params, ctx) -> GateResult:
    required = timedelta(days=params["min_days"] or 0, hours=params["min_hours"] or 0)
    entered = ctx.release.stage_entered_at
    until = entered + required
    # Evidence holds fixed instants, not the elapsed time, so it does not drift.
    evidence = {
        "stage": ctx.from_stage,
        "entered_at": rfc3339(entered),
        "required_until": rfc3339(until),
    }
    if ctx.now >= until:
        return GateResult(True, f"in {ctx.from_stage} since {evidence['entered_at']}", evidence)
    remaining = until - ctx.now
    hours = remaining.total_seconds() / 3600
    return GateResult(
        False,
        f"must stay in {ctx.from_stage} until {evidence['required_until']} "
        f"({hours:.1f} h from now)",
        evidence,
    )


KIND = GateKind(
    name="stage_dwell",
    description="The release must have spent a minimum time in its current stage.",
    params={
        "min_days": Param("number", required=False, default=0, minimum=0),
        "min_hours": Param("number", required=False, default=0, minimum=0),
    },
    evaluate=evaluate,
    check=check,
)
