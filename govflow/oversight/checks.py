"""The regulatory hold, as a check `release_advance` runs before it evaluates any gate.

Why not a gate kind: a release keeps the policy it was opened under, so a gate added to
a policy file binds only releases opened after the change, and only under that policy.
A hold is a legal order about one release: it must stop every release, under every
policy, old or new, the moment it is placed. So it is a gate-independent check, listed
in settings.GOVFLOW_ADVANCE_CHECKS, that `release_advance` runs under the release's row
lock (the lock `hold_place` also takes).
"""

from __future__ import annotations

from govflow.core.errors import Conflict
from govflow.oversight.selectors import standing_hold


class RegulatoryHoldInForce(Conflict):
    code = "regulatory_hold"


def no_standing_hold(*, release, target: str, actor) -> None:  # noqa: ARG001 (hook signature)
    hold = standing_hold(release.pk)
    if hold is not None:
        raise RegulatoryHoldInForce(
            f"release {release.pk} is under regulatory hold {hold.pk} (placed "
            f"{hold.placed_at:%Y-%m-%d %H:%M} UTC): nothing advances until a regulator lifts "
            f"it. Reason: {hold.reason}",
            detail={"rule": "regulatory_hold", "hold": hold.pk},
        )
