"""What each console page shows, composed from the areas' own scoped selectors and
read-only services. Views call one function here and render; they query nothing."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.core.paginator import Paginator

from govflow.accounts.models import OrganizationKind
from govflow.accounts.selectors import organizations_visible_to
from govflow.audit.selectors import events_visible_to
from govflow.console import sections
from govflow.console.charts import stage_timeline
from govflow.console.evalview import eval_gates, headers, run_view
from govflow.console.integrity import latest_checkpoint, release_trails, verifier_key
from govflow.console.manifests import manifest_diff
from govflow.console.standing import (
    blockers_of,
    release_standings,
    stage_titles,
    standing_of,
)
from govflow.core.errors import DomainError
from govflow.oversight.selectors import holds_visible_to, standing_holds
from govflow.policy.selectors import policy_of
from govflow.releases.access import access_release
from govflow.releases.models import ReleaseStatus
from govflow.releases.selectors import (
    evidence_visible_to,
    releases_filtered,
    releases_visible_to,
    transitions_visible_to,
)
from govflow.releases.services import release_gate_report
from govflow.signoffs.api import SignOffOut
from govflow.signoffs.selectors import signoffs_visible_to
from govflow.systems.selectors import system_versions_visible_to
from govflow.trust import dsse
from govflow.trust.keys import KeyFormatError, parse_public_key

RELEASES_PER_PAGE = 50
# Events drawn on the timeline besides the transitions themselves.
TIMELINE_EVENTS = {"release.paused": "paused", "release.resumed": "resumed",
                   "release.halted": "halted", "hold.placed": "hold.placed",
                   "hold.lifted": "hold.lifted"}


def release_list(user, *, lab: str = "", stage: str = "", status: str = "",
                 page: str | int | None = 1) -> dict[str, Any]:
    qs = releases_filtered(user, stage=stage or None, status=status or None, lab=lab or None)
    page_obj = Paginator(qs, RELEASES_PER_PAGE).get_page(page)
    releases = list(page_obj.object_list)
    ids = [r.pk for r in releases]
    log = latest_checkpoint()
    trails = release_trails(ids, log)
    findings = sections.open_findings_by_release(user, ids)
    incidents = sections.open_incidents_by_release(user, ids)
    holds = standing_holds(ids)
    standings = release_standings(releases, holds)
    titles = stage_titles()
    rows = [
        {"release": r, "trail": trails[r.pk], "hold": holds.get(r.pk),
         "standing": standings[r.pk],
         "open_findings": None if findings is None else findings.get(r.pk, 0),
         "open_incidents": None if incidents is None else incidents.get(r.pk, 0)}
        for r in releases
    ]
    return {
        "page": page_obj, "rows": rows, "log": log,
        "labs": list(organizations_visible_to(user).filter(kind=OrganizationKind.LAB)
                     .values_list("slug", "name")),
        "stages": [(name, titles.get(name, name)) for name in sorted(
            set(releases_visible_to(user).values_list("stage", flat=True).order_by().distinct()))],
        "statuses": ReleaseStatus.choices,
        "filters": {"lab": lab, "stage": stage, "status": status},
        "findings_installed": findings is not None,
        "incidents_installed": incidents is not None,
    }


def _timeline(release, policy, transitions, events) -> str:
    points = [{"at": t.at, "stage": t.to_stage, "kind": t.kind} for t in transitions]
    for event in events:
        stage = next((t.to_stage for t in reversed(transitions) if t.at <= event["created_at"]),
                     release.stage)
        points.append({"at": event["created_at"], "stage": stage,
                       "kind": TIMELINE_EVENTS[event["event_type"]]})
    points.sort(key=lambda p: p["at"])
    return stage_timeline(stages=policy.stage_names, points=points,
                          titles={s.name: s.title for s in policy.stages})


def _signature_ok(signoff) -> bool:
    """The envelope verifies under the key it was recorded with, held by its signer."""
    if signoff.key.user_id != signoff.signer_id:
        return False
    try:
        dsse.verify_envelope(signoff.envelope,
                             {signoff.key.key_id: parse_public_key(signoff.key.public_key)})
    except (dsse.EnvelopeError, KeyFormatError):
        return False
    return True


def _previous_version(user, version):
    return (system_versions_visible_to(user)
            .filter(system_id=version.system_id, number__lt=version.number)
            .order_by("-number").first())


def release_page(user, release_id: int) -> dict[str, Any]:
    release = access_release(user, release_id)
    policy = policy_of(release.policy)
    transitions = list(transitions_visible_to(user).filter(release=release).order_by("id"))
    events = list(events_visible_to(user).filter(release_id=release.pk,
                                                 event_type__in=list(TIMELINE_EVENTS))
                  .order_by("id").values("event_type", "created_at", "payload"))
    report, report_note = None, ""
    if release.status == ReleaseStatus.COMPLETED:
        report_note = "the release is at its last stage"
    else:
        try:
            report = release_gate_report(release=release, target=None, actor=user)
        except DomainError as exc:
            report_note = exc.message
    current = None
    if report is not None and transitions:
        current = SimpleNamespace(stage_entry=transitions[-1].pk, to_stage=report["target"],
                                  gate_report_digest=report["evidence_digest"])
    is_current = SignOffOut(context={"round": current}).get_current
    signoffs = [
        {"row": s, "verified": _signature_ok(s), "current": is_current(s)}
        for s in signoffs_visible_to(user).filter(release=release).order_by("id")
    ]
    blockers, note = blockers_of(report, report_note)
    holds = list(holds_visible_to(user).filter(release=release).order_by("-id"))
    standing = standing_of(release, hold=next((h for h in holds if h.lifted_at is None), None),
                           blockers=blockers, note=note)
    version = release.system_version
    previous = _previous_version(user, version)
    runs = sections.eval_runs_of(user, release)
    gates = eval_gates(policy)
    log = latest_checkpoint()
    return {
        "release": release, "policy": policy, "transitions": transitions,
        "status_events": events, "timeline_svg": _timeline(release, policy, transitions, events),
        "report": report, "report_note": report_note, "signoffs": signoffs,
        "evidence": list(evidence_visible_to(user).filter(release=release)
                         .select_related("uploaded_by").order_by("id")),
        "holds": holds, "standing": standing,
        "findings": sections.findings_of(user, release),
        "assignments": sections.assignments_of(user, release),
        "incidents": sections.incidents_of(user, release),
        "eval_runs": None if runs is None else [run_view(r, gates) for r in runs],
        "eval_gates": gates, "eval_headers": headers(), "verifier_key": verifier_key(),
        "version": version, "previous": previous,
        "diff": manifest_diff(previous.manifest if previous else None, version.manifest),
        "trail": release_trails([release.pk], log)[release.pk], "log": log,
    }
