"""Gate kind `open_findings`: no finding at or above a severity is still open.

A finding is open until it is resolved (by the auditor who filed it, or by the
regulator's decision) or its risk is accepted; its severity is the latest its auditor
gave it. With `on_critical_return_to`, a critical finding (filed, or amended to
critical) sends the release back to that stage at once: the "fix and re-submit" loop.
"""

from __future__ import annotations

from govflow.auditing.predicates import SEVERITIES
from govflow.gates.params import Param
from govflow.gates.registry import GateKind, GateResult


def evaluate(params, ctx) -> GateResult:
    from govflow.auditing.decisions import FindingFacts, open_findings
    from govflow.auditing.selectors import unclosed_findings

    threshold = params["severity"]
    rows = unclosed_findings(ctx.release, at_or_above=threshold)
    met, reason, evidence = open_findings(
        [FindingFacts(f.pk, f.current_severity, f.current_status) for f in rows], threshold)
    return GateResult(met, reason, evidence)


KIND = GateKind(
    name="open_findings",
    description="No finding at or above a severity is open (unresolved, risk not accepted).",
    params={
        "severity": Param("str", required=False, default="high", choices=SEVERITIES,
                          help="findings at or above this severity must be closed"),
        "on_critical_return_to": Param("stage", required=False, default=None,
                                       help="a critical finding sends the release back here"),
    },
    evaluate=evaluate,
)
