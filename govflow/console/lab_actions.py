"""The lab's and the auditors' signed actions in the console: a sign-off, a cohort growth
approval, a snapshot order (the lab's release managers; regulators too) and a finding.
Each prepares its statement with the area's own builder and access checks, and its
envelope goes to the same signed act of the kernel as the API endpoint's."""

from __future__ import annotations

from django.urls import reverse

from govflow.auditing.access import access_engagement
from govflow.auditing.predicates import build_finding
from govflow.console.signed_action import Action, form_id, form_text
from govflow.core.errors import ValidationFailed
from govflow.keys.acts import release_json
from govflow.releases.access import access_release
from govflow.rollout.access import access_snapshot_publish
from govflow.rollout.predicates import DECISIONS, build_snapshot_order
from govflow.rollout.services.growth import growth_statement
from govflow.signoffs.access import access_signoff
from govflow.signoffs.services import signoff_statement


def _decision(data) -> str:
    decision = form_text(data, "decision")
    if decision not in DECISIONS:
        raise ValidationFailed(f"decision must be one of: {', '.join(DECISIONS)}")
    return decision


def _signoff_prepare(user, data):
    release = access_signoff(user, form_id(data, "release"), form_text(data, "role"))
    statement = signoff_statement(release=release, actor=user, role=form_text(data, "role"),
                                  decision=_decision(data),
                                  comment=(data.get("comment") or "").strip())
    return statement, {"release": str(release.pk)}


def _growth_prepare(user, data):
    release = access_release(user, form_id(data, "release"))
    statement = growth_statement(release=release, stage=form_text(data, "stage"),
                                 up_to=form_id(data, "up_to"), role=form_text(data, "role"),
                                 decision=_decision(data),
                                 comment=(data.get("comment") or "").strip(), actor=user)
    return statement, {"release": str(release.pk)}


def _snapshot_prepare(user, data):
    release = access_snapshot_publish(user, form_id(data, "release"))
    stage = form_text(data, "stage")
    return (build_snapshot_order(release=release_json(release), stage=stage),
            {"release": str(release.pk), "stage": stage})


def _finding_prepare(user, data):
    release = access_release(user, form_id(data, "release"))
    access_engagement(user, release.pk)
    steps = [line.strip() for line in form_text(data, "reproduction_steps").splitlines()
             if line.strip()]
    statement = build_finding(release=release_json(release), title=form_text(data, "title"),
                              severity=form_text(data, "severity"),
                              category=form_text(data, "category"),
                              description=form_text(data, "description"),
                              reproduction_steps=steps)
    return statement, {"release": str(release.pk)}


def _on_release_page(release_id: int, anchor: str = "") -> str:
    return reverse("console:release", args=[release_id]) + anchor


def _signed_off(signoff, data):  # noqa: ARG001
    return (f"Sign-off recorded: {signoff.decision} as {signoff.role}.",
            _on_release_page(signoff.release_id))


def _growth_signed(approval, data):  # noqa: ARG001
    return (f"Growth of the {approval.cohort.stage} cohort to {approval.up_to}: "
            f"{approval.decision} recorded.", _on_release_page(approval.cohort.release_id))


def _snapshot_published(snapshot, data):  # noqa: ARG001
    cohort = snapshot.cohort
    return (f"Snapshot of the {cohort.stage} cohort published (version "
            f"{snapshot.cohort_version}).", _on_release_page(cohort.release_id))


def _finding_filed(finding, data):  # noqa: ARG001
    return (f"Finding {finding.pk} filed.",
            _on_release_page(finding.release_id, f"#finding-{finding.pk}"))


LAB_ACTIONS = (
    Action("signoff", "Sign off the release's next step", _signoff_prepare, "signoff.record",
           _signed_off, fields=("release", "role", "decision", "comment")),
    Action("cohort-growth", "Approve growing a cohort", _growth_prepare, "cohort.growth",
           _growth_signed, fields=("release", "stage", "up_to", "role", "decision", "comment")),
    Action("snapshot-order", "Order a cohort snapshot", _snapshot_prepare, "cohort.snapshot",
           _snapshot_published, fields=("release", "stage"),
           target_of=lambda data: (form_id(data, "release"), form_text(data, "stage"))),
    Action("finding-file", "File a finding", _finding_prepare, "finding.file", _finding_filed,
           fields=("release", "title", "severity", "category", "description",
                   "reproduction_steps")),
)
