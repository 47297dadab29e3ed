"""Periodic re-evaluation of deployed systems that learn online.

A system that learns online is not the system that was audited a week later. The policy
(`reassessment.online_learning`) sets how often a deployed release of such a system is
re-evaluated and how long the lab has to report the result. Beat schedules them; a
failed re-evaluation pauses the release, and so does one whose result never came
(fail closed: an unverified learner stops serving until someone looks).

The result arrives with the digest of the evidence it rests on (an eval run's summary, a
report) through `POST /api/reevaluations/{id}/result`; once automated eval runs exist
(govflow.evalruns) their completion can call `reevaluation_complete` directly.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.core.errors import Conflict, NotFound
from govflow.core.times import rfc3339_or_none
from govflow.monitoring.affordances import reassessment_rules
from govflow.monitoring.models import Reevaluation, ReevaluationResult
from govflow.monitoring.services.notifications import notify, regulators
from govflow.policy.selectors import policy_of
from govflow.releases.locks import lock_release
from govflow.releases.models import Release, ReleaseStatus
from govflow.releases.services import release_set_status


def _due(release: Release, now: datetime) -> bool:
    """Whether the (locked) release is due a new re-evaluation now."""
    if release.status != ReleaseStatus.ACTIVE:
        return False
    if not release.system_version.manifest.get("online_learning"):
        return False
    policy = policy_of(release.policy)
    rules = reassessment_rules(policy).online_learning
    from_stage = rules.from_stage or (policy.stages[1].name if len(policy.stages) > 1 else None)
    if from_stage is None or policy.index(release.stage) < policy.index(from_stage):
        return False
    if Reevaluation.objects.filter(release=release, result=ReevaluationResult.PENDING).exists():
        return False
    last = (Reevaluation.objects.filter(release=release).order_by("-scheduled_at")
            .values_list("scheduled_at", flat=True).first())
    baseline = max(filter(None, [last, release.stage_entered_at]))
    return now >= baseline + timedelta(days=rules.every_days)


def releases_due_reevaluation() -> list[int]:
    """Candidates for beat: active releases whose current system version learns online."""
    return list(Release.objects.filter(status=ReleaseStatus.ACTIVE,
                                       system_version__manifest__online_learning=True)
                .order_by("id").values_list("pk", flat=True))


@transaction.atomic
def reevaluation_schedule(*, release_id: int, now: datetime | None = None) -> Reevaluation | None:
    now = now or timezone.now()
    release = lock_release(release_id)
    if not _due(release, now):
        return None
    rules = reassessment_rules(policy_of(release.policy)).online_learning
    reevaluation = Reevaluation.objects.create(
        release=release, system_version=release.system_version, scheduled_at=now,
        due_at=now + timedelta(days=rules.result_within_days),
    )
    body = {"reevaluation": reevaluation.pk, "system_version": release.system_version_id,
            "stage": release.stage, "due_at": rfc3339_or_none(reevaluation.due_at),
            "every_days": rules.every_days}
    audit_append(event_type=EventType.REEVALUATION_SCHEDULED, actor=None, subject=reevaluation,
                 organization_id=release.organization_id, release_id=release.pk, payload=body)
    notify(organizations=[release.organization], release=release, kind="reevaluation_due",
           body=body, subject=f"Release {release.pk} learns online: re-evaluation due "
                              f"{rfc3339_or_none(reevaluation.due_at)}")
    return reevaluation


def _finish(reevaluation: Reevaluation, *, result: str, evidence_digest: str, summary: str,
            actor, now: datetime) -> Reevaluation:
    release = reevaluation.release
    reevaluation.result, reevaluation.completed_at = result, now
    reevaluation.evidence_digest, reevaluation.summary = evidence_digest, summary
    reevaluation.completed_by = actor
    reevaluation.save(update_fields=["result", "completed_at", "evidence_digest", "summary",
                                     "completed_by"])
    failed = result != ReevaluationResult.PASSED
    pause = failed and release.status == ReleaseStatus.ACTIVE
    body = {"reevaluation": reevaluation.pk, "result": result,
            "evidence_digest": evidence_digest, "summary": summary, "paused": pause}
    audit_append(event_type=EventType.REEVALUATION_COMPLETED, actor=actor, subject=reevaluation,
                 organization_id=release.organization_id, release_id=release.pk, payload=body)
    if pause:
        release_set_status(release_id=release.pk, move=EventType.RELEASE_PAUSED, actor=actor,
                           reason=f"re-evaluation #{reevaluation.pk} of a system that learns "
                                  f"online: {result}")
    if failed:
        notify(organizations=[release.organization, *regulators()], release=release,
               kind="reevaluation_failed", body=body,
               subject=f"Release {release.pk} paused: re-evaluation #{reevaluation.pk} {result}")
    return reevaluation


def _lock(reevaluation_id: int) -> Reevaluation:
    release_id = (Reevaluation.objects.filter(pk=reevaluation_id)
                  .values_list("release_id", flat=True).first())
    if release_id is None:
        raise NotFound(f"re-evaluation {reevaluation_id} does not exist")
    lock_release(release_id)
    return (Reevaluation.objects.select_for_update(of=("self",))
            .select_related("release__organization").get(pk=reevaluation_id))


@transaction.atomic
def reevaluation_complete(*, reevaluation_id: int, passed: bool, evidence_digest: str,
                          summary: str, actor) -> Reevaluation:
    reevaluation = _lock(reevaluation_id)
    if reevaluation.result != ReevaluationResult.PENDING:
        raise Conflict(f"re-evaluation {reevaluation.pk} is already {reevaluation.result}")
    result = ReevaluationResult.PASSED if passed else ReevaluationResult.FAILED
    return _finish(reevaluation, result=result, evidence_digest=evidence_digest,
                   summary=summary, actor=actor, now=timezone.now())


@transaction.atomic
def reevaluation_expire(*, reevaluation_id: int,
                        now: datetime | None = None) -> Reevaluation | None:
    """Beat: a pending re-evaluation past its deadline counts as failed (idempotent)."""
    now = now or timezone.now()
    reevaluation = _lock(reevaluation_id)
    if reevaluation.result != ReevaluationResult.PENDING or now <= reevaluation.due_at:
        return None
    return _finish(reevaluation, result=ReevaluationResult.MISSED, evidence_digest="",
                   summary=f"no result by {rfc3339_or_none(reevaluation.due_at)}", actor=None,
                   now=now)
