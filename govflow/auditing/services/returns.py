"""Sending a release back when the policy says a finding or a conclusion requires it:
the "fix and re-submit until the findings are low enough" loop.

It runs inside the transaction of the finding (or conclusion) that triggers it, not
after commit: the finding and the move it mandates commit together or not at all, so
there is no moment at which a critical finding is on record while the release still
sits in a stage the policy says it must leave, and no queued task that could be lost
or run twice. The caller already holds the release's row lock (taken first, before any
assignment, in the order every release service locks), `release_rollback` re-takes it
harmlessly in a savepoint and writes its own `release.rolled_back` event — the second
change, with its own event. The round's open engagements end with it: the release
left the stage they were for, and the regulator assigns auditors afresh when it
returns.
"""

from __future__ import annotations

from datetime import datetime

from govflow.auditing.models import Assignment, EndReason
from govflow.auditing.policy import audit_rules
from govflow.auditing.selectors import current_stage_entry
from govflow.auditing.services.assignment import end_assignment_locked
from govflow.policy.selectors import policy_of
from govflow.releases.models import ReleaseStatus
from govflow.releases.services import release_rollback


def return_if_policy_says(*, release, trigger: str, reason: str, actor,
                          now: datetime) -> str | None:
    """Roll the (locked) release back if its policy names a stage for ``trigger``
    ("critical_finding" or "failed_conclusion"). Returns the stage it went back to."""
    rules = audit_rules(release)
    target = (rules.on_critical_return_to if trigger == "critical_finding"
              else rules.on_fail_return_to)
    # Only while the release can still go back there; otherwise the finding stands on
    # its own and the gates keep the release where it is.
    if (target is None or release.status == ReleaseStatus.HALTED
            or not rules.is_before_current(target)
            or policy_of(release.policy).stage(release.stage).irreversible):
        return None
    left = current_stage_entry(release)
    release_rollback(release_id=release.pk, target=target, reason=reason, actor=actor)
    engagements = (Assignment.objects.select_for_update(of=("self",))
                   .select_related("release", "auditor")
                   .filter(release=release, stage_entry=left, ended_at__isnull=True)
                   .order_by("id"))
    for assignment in engagements:
        end_assignment_locked(assignment, reason=EndReason.RELEASE_RETURNED,
                              note=f"release returned to {target}: {reason}", actor=actor,
                              now=now)
    return target
