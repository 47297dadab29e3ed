"""Gate kind `no_sanction`: no sanction in force on the lab forbids entering this stage.

A regulator may sanction a lab that consistently ignored the standards: no release of
a system trained above some compute may pass a given stage until a date. The default
policy puts this gate on every stage, so each advance asks. The sanctions it found are
its evidence, so a sign-off made before a sanction was imposed no longer counts after.
"""

from __future__ import annotations

from govflow.core.times import rfc3339
from govflow.gates.registry import GateKind, GateResult


def evaluate(params, ctx) -> GateResult:  # noqa: ARG001 (no parameters)
    from govflow.oversight.selectors import sanction_applies, sanctions_in_force

    release = ctx.release
    compute = release.system_version.training_compute_flop
    blocking = [
        s for s in sanctions_in_force(lab_id=release.organization_id, now=ctx.now)
        if sanction_applies(s, stage_names=ctx.policy.stage_names, target=ctx.target.name,
                            training_compute_flop=compute)
    ]
    evidence = {"sanctions": [
        {"id": s.pk, "stage": s.stage, "min_training_compute_flop": s.min_training_compute_flop,
         "until": rfc3339(s.until)} for s in blocking
    ]}
    if not blocking:
        return GateResult(True, "no sanction on the lab forbids entering this stage", evidence)
    first = blocking[0]
    return GateResult(
        False,
        f"sanction {first.pk} forbids releases of systems above "
        f"{first.min_training_compute_flop:.3g} FLOP to pass {first.stage} until "
        f"{first.until:%Y-%m-%d}: {first.reason}",
        evidence,
    )


KIND = GateKind(
    name="no_sanction",
    description="No regulator's sanction on the lab forbids entering the stage.",
    params={},
    evaluate=evaluate,
)
