"""Where a release stands, as the release list answers it at a glance: its stage by name,
a status that says what stops it (a hold, a pause, a halt, a sanction), and the next
stage with the gates that block it.

"Blocked by" comes from the read-only gate engine (`release_gate_report`), the same
evaluation the advance runs, never from a second set of rules. Evaluating every gate of
fifty releases on each page view would cost more than the page, so each release's
verdict is cached under a key that changes whenever anything the gates read can have
changed: every governed change writes an audit event, so the newest event id and the
release's own version stand for "the evidence". A short timeout covers gates that read
the clock (a sanction's or a certificate's end).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db.models import Max
from django.utils import timezone

from govflow.audit.models import AuditEvent
from govflow.core.errors import DomainError
from govflow.gates.engine import prefetch_inputs
from govflow.oversight.selectors import sanction_applies, sanctions_in_force
from govflow.policy.selectors import policy_of
from govflow.releases.models import ReleaseStatus
from govflow.releases.services import release_gate_report

BLOCKERS_TTL = 60  # seconds: the clock is evidence too (sanctions and certificates end)


@dataclass(frozen=True)
class Blocker:
    gate: str
    reason: str


@dataclass(frozen=True)
class Standing:
    stage: str            # the stage's name in the policy (its id)
    stage_title: str      # the stage's human name
    status: str           # active | on_hold | paused | halted | sanctioned | completed
    status_label: str
    tone: str             # ok | warn | bad | done: the badge colour
    next_stage: str | None = None
    next_title: str | None = None
    blockers: list[Blocker] = field(default_factory=list)
    note: str = ""        # why there are no gate results (e.g. an error evaluating)

    @property
    def ready(self) -> bool:
        return self.next_stage is not None and not self.blockers and not self.note


def stage_titles() -> dict[str, str]:
    """Stage name → human name across the registered policies (parsed once each)."""
    from govflow.policy.models import PolicyVersion

    titles: dict[str, str] = {}
    for version in PolicyVersion.objects.order_by("id"):
        for stage in policy_of(version).stages:
            titles.setdefault(stage.name, stage.title)
    return titles


def newest_event_id() -> int:
    return AuditEvent.objects.aggregate(n=Max("id"))["n"] or 0


def _blockers_key(release, newest: int) -> str:
    return f"console:blockers:v1:{release.pk}:{release.version}:{newest}"


def _sanctioned(release, policy, target: str | None, sanctions) -> bool:
    if target is None:
        return False
    flop = release.system_version.training_compute_flop
    return any(sanction_applies(s, stage_names=policy.stage_names, target=target,
                                training_compute_flop=flop) for s in sanctions)


def blockers_of(report: dict[str, Any] | None, note: str = "") -> tuple[list[Blocker], str]:
    if report is None:
        return [], note
    return [Blocker(g["id"], g["reason"]) for g in report["gates"] if not g["met"]], ""


def _evaluate(release) -> tuple[list[Blocker], str]:
    try:
        report = release_gate_report(release=release, target=None, actor=None)
    except DomainError as exc:
        return [], exc.message
    return blockers_of(report)


def standing_of(release, *, hold, blockers: list[Blocker], note: str, now=None,
                sanctions: list | None = None) -> Standing:
    """One release's standing from its gate verdict (``blockers``, or ``note`` when the
    gates could not be evaluated) and its standing hold, if any."""
    policy = policy_of(release.policy)
    stage = policy.stage(release.stage)
    following = policy.next_stage(release.stage)
    base = {"stage": release.stage, "stage_title": stage.title if stage else release.stage}
    if release.status == ReleaseStatus.COMPLETED or following is None:
        return Standing(**base, status="completed", status_label="completed", tone="done")
    base.update(next_stage=following.name, next_title=following.title)
    if sanctions is None:
        sanctions = sanctions_in_force(lab_id=release.organization_id,
                                       now=now or timezone.now())
    if hold is not None:
        status, label, tone = "on_hold", "on hold", "bad"
    elif release.status == ReleaseStatus.HALTED:
        status, label, tone = "halted", "halted", "bad"
    elif release.status == ReleaseStatus.PAUSED:
        status, label, tone = "paused", "paused", "warn"
    elif _sanctioned(release, policy, following.name, sanctions):
        status, label, tone = "sanctioned", "sanctioned", "bad"
    elif blockers or note:
        status, label, tone = "active", "active · blocked", "warn"
    else:
        status, label, tone = "active", "active · ready", "ok"
    return Standing(**base, status=status, status_label=label, tone=tone,
                    blockers=blockers, note=note)


def _prefetch_gate_inputs(releases) -> None:
    """One query per gate kind for the releases about to be evaluated, not one per
    release and gate: the kinds of each release's next stage."""
    kinds: set[str] = set()
    for release in releases:
        following = policy_of(release.policy).next_stage(release.stage)
        if following is not None:
            kinds.update(gate.kind for gate in following.gates)
    prefetch_inputs(releases, kinds)


def release_standings(releases, holds: dict[int, Any]) -> dict[int, Standing]:
    """Each release's standing; one query for the cache key, the gate engine only for
    releases whose verdict is not cached under the current evidence."""
    newest = newest_event_id()
    keys = {r.pk: _blockers_key(r, newest) for r in releases}
    cached = cache.get_many(list(keys.values())) if keys else {}
    _prefetch_gate_inputs([r for r in releases if keys[r.pk] not in cached
                           and r.status != ReleaseStatus.COMPLETED])
    fresh: dict[str, tuple[list[Blocker], str]] = {}
    now = timezone.now()
    by_lab: dict[int, list] = {}
    out = {}
    for release in releases:
        lab = release.organization_id
        if lab not in by_lab:
            by_lab[lab] = sanctions_in_force(lab_id=lab, now=now)
        key = keys[release.pk]
        if key in cached:
            blockers, note = cached[key]
        elif release.status == ReleaseStatus.COMPLETED:
            blockers, note = [], ""
        else:
            blockers, note = fresh[key] = _evaluate(release)
        out[release.pk] = standing_of(release, hold=holds.get(release.pk),
                                      blockers=blockers, note=note, now=now,
                                      sanctions=by_lab[lab])
    if fresh:
        cache.set_many(fresh, timeout=BLOCKERS_TTL)
    return out
