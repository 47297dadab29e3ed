"""The only way a release changes: open, advance, roll back, pause, resume, halt.

Each function is one transaction that locks the release row before it reads its
state, writes exactly one audit event, and queues side effects after commit.
"""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.core.errors import Conflict, GateNotMet, StaleVersion, ValidationFailed, field_error
from govflow.gates.engine import evaluate_stage
from govflow.policy.models import PolicyVersion
from govflow.policy.selectors import policy_of
from govflow.releases.checks import run_advance_checks
from govflow.releases.locks import lock_release
from govflow.releases.models import (
    Release,
    ReleaseStatus,
    StageTransition,
    TransitionKind,
)
from govflow.systems.models import SystemVersion


def _check_version(release: Release, expected_version: int | None) -> None:
    if expected_version is not None and release.version != expected_version:
        raise StaleVersion(
            f"release {release.pk} is at version {release.version}, "
            f"not {expected_version}: fetch it again and retry",
            detail={"current_version": release.version},
        )


def _bump(release: Release, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(release, name, value)
    release.version += 1
    release.save(update_fields=[*fields, "version"])
    announce_release_change(release.pk)


def announce_release_change(release_id: int) -> None:
    """After commit, tell each of settings.GOVFLOW_RELEASE_CHANGE_HOOKS (the serving
    gateway's access cache, say) that the release changed. The hooks run in the request
    that made the change, right after its commit: a pause reaches the gateway at once,
    not when a worker gets round to it, and never for a change that rolled back."""
    for path in settings.GOVFLOW_RELEASE_CHANGE_HOOKS:
        hook = import_string(path)
        transaction.on_commit(functools.partial(hook, release_id=release_id), robust=True)


@transaction.atomic
def release_open(
    *, system_version: SystemVersion, policy_version: PolicyVersion, title: str, actor
) -> Release:
    policy = policy_of(policy_version)
    first = policy.stages[0].name
    now = timezone.now()
    release = Release.objects.create(
        organization_id=system_version.system.organization_id,
        system_version=system_version,
        policy=policy_version,
        title=title,
        stage=first,
        status=ReleaseStatus.ACTIVE,
        stage_entered_at=now,
        opened_at=now,
        opened_by=actor,
    )
    opening = StageTransition.objects.create(
        release=release,
        kind=TransitionKind.OPEN,
        from_stage="",
        to_stage=first,
        actor=actor,
        at=now,
        policy_digest=policy.digest,
    )
    audit_append(
        event_type=EventType.RELEASE_OPENED,
        actor=actor,
        subject=release,
        organization_id=release.organization_id,
        release_id=release.pk,
        payload={
            "title": title,
            "transition": opening.pk,
            "stage": first,
            "system_version": system_version.pk,
            "manifest_digest": system_version.manifest_digest,
            "policy_digest": policy.digest,
            "policy_name": policy.name,
        },
    )
    return release


def release_gate_report(*, release: Release, target: str | None, actor) -> dict[str, Any]:
    """The gate report for entering ``target`` (default: the next stage). Changes nothing."""
    policy = policy_of(release.policy)
    if target is None:
        following = policy.next_stage(release.stage)
        if following is None:
            raise Conflict(f"release {release.pk} is already at the last stage, {release.stage}")
        target = following.name
    if policy.stage(target) is None:
        raise ValidationFailed(
            f"the policy has no stage {target!r}",
            detail={
                "fields": [
                    {"path": "target", "message": "stages: " + ", ".join(policy.stage_names)}
                ]
            },
        )
    if policy.index(target) <= policy.index(release.stage):
        raise field_error("target", "must be a later stage",
                          summary=f"{target!r} is not after the current stage {release.stage!r}")
    return evaluate_stage(
        release=release, policy=policy, target=target, now=timezone.now(), requested_by=actor
    )


@transaction.atomic
def release_advance(
    *, release_id: int, actor, target: str | None = None, expected_version: int | None = None
) -> StageTransition:
    release = lock_release(release_id)
    _check_version(release, expected_version)
    if release.status != ReleaseStatus.ACTIVE:
        raise Conflict(f"release {release.pk} is {release.status}; only an active release advances")
    policy = policy_of(release.policy)
    following = policy.next_stage(release.stage)
    if following is None:
        raise Conflict(f"release {release.pk} is already at the last stage, {release.stage}")
    if target is not None and target != following.name:
        raise Conflict(
            f"a release advances one stage at a time: from {release.stage!r} the next stage is "
            f"{following.name!r}, not {target!r}"
        )
    # Under the row lock, before any gate: a regulatory hold stops every advance.
    run_advance_checks(release=release, target=following.name, actor=actor)
    report = release_gate_report(release=release, target=following.name, actor=actor)
    if not report["all_met"]:
        raise GateNotMet(report)
    now = timezone.now()
    transition = StageTransition.objects.create(
        release=release,
        kind=TransitionKind.ADVANCE,
        from_stage=release.stage,
        to_stage=following.name,
        actor=actor,
        at=now,
        policy_digest=policy.digest,
        gate_report=report,
    )
    is_last = policy.next_stage(following.name) is None
    _bump(
        release,
        stage=following.name,
        stage_entered_at=now,
        status=ReleaseStatus.COMPLETED if is_last else release.status,
    )
    audit_append(
        event_type=EventType.RELEASE_ADVANCED,
        actor=actor,
        subject=release,
        organization_id=release.organization_id,
        release_id=release.pk,
        payload={
            "transition": transition.pk,
            "from": transition.from_stage,
            "to": transition.to_stage,
            "policy_digest": policy.digest,
            "gate_report": report,
        },
    )
    return transition


@transaction.atomic
def release_rollback(
    *, release_id: int, target: str, reason: str, actor, expected_version: int | None = None
) -> StageTransition:
    release = lock_release(release_id)
    _check_version(release, expected_version)
    if not reason.strip():
        raise field_error("reason", "may not be blank",
                          summary="a rollback needs a reason")
    policy = policy_of(release.policy)
    if policy.stage(target) is None:
        raise ValidationFailed(f"the policy has no stage {target!r}")
    current = policy.stage(release.stage)
    if current is not None and current.irreversible:
        raise Conflict(f"{release.stage} is irreversible: it cannot be rolled back")
    if policy.index(target) >= policy.index(release.stage):
        raise Conflict(f"{target!r} is not before the current stage {release.stage!r}")
    if release.status == ReleaseStatus.HALTED:
        raise Conflict(f"release {release.pk} is halted")
    now = timezone.now()
    transition = StageTransition.objects.create(
        release=release,
        kind=TransitionKind.ROLLBACK,
        from_stage=release.stage,
        to_stage=target,
        actor=actor,
        at=now,
        policy_digest=policy.digest,
        reason=reason,
    )
    status = ReleaseStatus.ACTIVE if release.status == ReleaseStatus.COMPLETED else release.status
    _bump(release, stage=target, stage_entered_at=now, status=status)
    audit_append(
        event_type=EventType.RELEASE_ROLLED_BACK,
        actor=actor,
        subject=release,
        organization_id=release.organization_id,
        release_id=release.pk,
        payload={"transition": transition.pk, "from": transition.from_stage, "to": target,
                 "reason": reason},
    )
    return transition


_STATUS_MOVES = {
    # event type: (statuses it may start from, resulting status)
    EventType.RELEASE_PAUSED: ({ReleaseStatus.ACTIVE}, ReleaseStatus.PAUSED),
    EventType.RELEASE_RESUMED: ({ReleaseStatus.PAUSED}, ReleaseStatus.ACTIVE),
    EventType.RELEASE_HALTED: (
        {ReleaseStatus.ACTIVE, ReleaseStatus.PAUSED, ReleaseStatus.COMPLETED},
        ReleaseStatus.HALTED,
    ),
}


@transaction.atomic
def release_set_status(
    *, release_id: int, move: EventType, reason: str, actor, expected_version: int | None = None
) -> Release:
    """Pause, resume or halt a release. A halt is final."""
    allowed_from, new_status = _STATUS_MOVES[move]
    release = lock_release(release_id)
    _check_version(release, expected_version)
    if release.status not in allowed_from:
        raise Conflict(f"release {release.pk} is {release.status}; cannot move to {new_status}")
    if not reason.strip():
        raise field_error("reason", "may not be blank",
                          summary="a reason is required")
    old = release.status
    _bump(release, status=new_status)
    audit_append(
        event_type=move,
        actor=actor,
        subject=release,
        organization_id=release.organization_id,
        release_id=release.pk,
        payload={"from_status": old, "to_status": new_status, "reason": reason,
                 "stage": release.stage},
    )
    return release
