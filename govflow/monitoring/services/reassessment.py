"""Moving a release to a new version of its system, and re-assessing it.

A new version that adds affordances (internet access, code execution, tools, other
weights, …), or makes new capabilities reachable through them, is a different system
with a different threat model: it does not inherit the stage the old version earned.
The policy's `reassessment` section (govflow.monitoring.affordances) says from which
stage it must start, and the release goes back there: two changes, two events — the
version change (`release.system_version_changed`, naming what was added, what became
reachable, the stage it calls for and the eval coverage now required) and the rollback
(`release.rolled_back`, through `release_rollback`, which the offline verifier knows).
A version that adds nothing risky keeps the stage. Earlier sign-offs and gate reports
name the old manifest, so none of them counts for the new version.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.core.errors import Conflict, NotFound, StaleVersion, ValidationFailed
from govflow.monitoring.affordances import Reassessment, reassess, required_coverage
from govflow.policy.selectors import policy_of
from govflow.releases.locks import lock_release
from govflow.releases.models import Release, ReleaseStatus, StageTransition
from govflow.releases.services import announce_release_change, release_rollback
from govflow.systems.models import SystemVersion


@dataclass(frozen=True)
class Reassessed:
    release: Release
    reassessment: Reassessment
    restarted_at: str | None  # the stage the release went back to, if it did
    transition: StageTransition | None


@transaction.atomic
def release_change_system_version(*, release_id: int, system_version_id: int, reason: str,
                                  actor, expected_version: int | None = None) -> Reassessed:
    release = lock_release(release_id)
    if expected_version is not None and release.version != expected_version:
        raise StaleVersion(f"release {release.pk} is at version {release.version}, not "
                           f"{expected_version}: fetch it again and retry",
                           detail={"current_version": release.version})
    if release.status == ReleaseStatus.HALTED:
        raise Conflict(f"release {release.pk} is halted")
    if not reason.strip():
        raise ValidationFailed("say why the system changed", detail={"fields": [
            {"path": "reason", "message": "may not be blank"}]})
    old = release.system_version
    new = SystemVersion.objects.filter(pk=system_version_id, system_id=old.system_id).first()
    if new is None:
        raise NotFound(f"system {old.system_id} has no version {system_version_id}")
    if new.pk == old.pk:
        raise Conflict(f"release {release.pk} already runs version {new.number}")
    policy = policy_of(release.policy)
    result = reassess(old.manifest, new.manifest, policy)
    restart = result.restart_stage
    if restart is not None and policy.index(restart) >= policy.index(release.stage):
        restart = None  # already at or before the stage the change calls for
    if restart is not None and policy.stage(release.stage).irreversible:
        raise Conflict(f"{release.stage} is irreversible: a changed system cannot go back to "
                       f"{restart}; open a new release for it", detail={"rule": "irreversible"})
    release.system_version = new
    release.version += 1
    release.save(update_fields=["system_version", "version"])
    audit_append(
        event_type=EventType.RELEASE_SYSTEM_VERSION_CHANGED, actor=actor, subject=release,
        organization_id=release.organization_id, release_id=release.pk,
        payload={
            "from_version": old.pk, "to_version": new.pk,
            "from_manifest_digest": old.manifest_digest,
            "to_manifest_digest": new.manifest_digest,
            "added": result.added, "newly_reachable": result.newly_reachable,
            "restart_stage": restart, "restart_reasons": result.reasons,
            "stage": release.stage, "required_coverage": required_coverage(new, policy),
            "reason": reason,
        },
    )
    announce_release_change(release.pk)
    transition = None
    if restart is not None:
        added = ", ".join(f"{name} → {stage}" for name, stage in result.reasons.items())
        transition = release_rollback(
            release_id=release.pk, target=restart, actor=actor,
            reason=f"re-assessment of v{new.number} ({added}): {reason}",
        )
        release.refresh_from_db()
    return Reassessed(release=release, reassessment=result, restarted_at=restart,
                      transition=transition)
