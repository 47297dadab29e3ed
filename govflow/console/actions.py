"""The console's signed actions: each prepares a statement to sign and hands the signed
envelope to the same signed act of the kernel as its API endpoint
(`govflow.keys.acts.act_perform`: parse, authorise, verify, record). The regulator's are
here; the lab's and the auditors' in `lab_actions.py`; `ACTIONS` names them all."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from govflow.accounts.access import not_found
from govflow.accounts.models import Organization, OrganizationKind
from govflow.console.lab_actions import LAB_ACTIONS
from govflow.console.signed_action import Action, form_id, form_text, form_when
from govflow.core.errors import ValidationFailed
from govflow.core.times import rfc3339
from govflow.keys.acts import release_json
from govflow.oversight import services
from govflow.oversight.access import access_hold, access_regulator, access_sanction
from govflow.releases.access import access_release

# --- regulatory holds ---------------------------------------------------------------------


def _hold_place_prepare(user, data):
    access_regulator(user)
    release = access_release(user, form_id(data, "release"))
    statement = services.hold_statement(release=release, action="place",
                                        reason=form_text(data, "reason"))
    return statement, {"release": str(release.pk)}


def _hold_lift_prepare(user, data):
    hold = access_hold(user, form_id(data, "hold"), act=True)
    statement = services.hold_statement(release=hold.release, action="lift",
                                        reason=form_text(data, "reason"), hold=hold)
    return statement, {"hold": str(hold.pk)}


# --- sanctions ----------------------------------------------------------------------------


def _sanction_impose_prepare(user, data):
    access_regulator(user)
    lab = Organization.objects.filter(slug=form_text(data, "lab"), kind=OrganizationKind.LAB) \
        .first()
    if lab is None:
        not_found()
    try:
        compute = float(form_text(data, "min_training_compute_flop"))
    except ValueError as exc:
        raise ValidationFailed("min training compute must be a number of FLOP") from exc
    statement = services.sanction_statement(
        action="impose", lab=lab, reason=form_text(data, "reason"), stage=form_text(data, "stage"),
        min_training_compute_flop=compute, until=form_when(data, "until"))
    return statement, {}


def _sanction_lift_prepare(user, data):
    sanction = access_sanction(user, form_id(data, "sanction"), act=True)
    statement = services.sanction_statement(action="lift", lab=sanction.lab,
                                            reason=form_text(data, "reason"), sanction=sanction)
    return statement, {"sanction": str(sanction.pk)}


# --- auditors and findings (govflow.auditing, when installed) -----------------------------


def _certify_prepare(user, data):
    from govflow.auditing.access import access_regulator as auditing_regulator
    from govflow.auditing.predicates import build_certificate

    auditing_regulator(user)
    auditor = Organization.objects.filter(slug=form_text(data, "auditor"),
                                          kind=OrganizationKind.AUDITOR).first()
    if auditor is None:
        not_found()
    split = [v.strip() for v in form_text(data, "risk_areas").split(",") if v.strip()]
    levels = [v.strip() for v in form_text(data, "access_levels").split(",") if v.strip()]
    statement = build_certificate(
        auditor=auditor.slug, risk_areas=split, access_levels=levels,
        valid_from=rfc3339(timezone.now().replace(microsecond=0)),
        valid_until=rfc3339(form_when(data, "valid_until")),
        standard=(data.get("standard") or "").strip())
    return statement, {}


def _decide_prepare(user, data):
    from govflow.auditing.access import access_finding, access_finding_action
    from govflow.auditing.predicates import build_finding_statement

    finding = access_finding(user, form_id(data, "finding"))
    access_finding_action(user, finding, "decide")
    statement = build_finding_statement(release=release_json(finding.release),
                                        finding=finding.pk, action="decide",
                                        text=form_text(data, "text"),
                                        outcome=form_text(data, "outcome"))
    return statement, {"finding": str(finding.pk)}


def _certificate_move_prepare(move: str):
    def prepare(user, data):
        from govflow.auditing.access import access_certificate
        from govflow.auditing.predicates import build_certificate_status

        certificate = access_certificate(user, form_id(data, "certificate"), act=True)
        statement = build_certificate_status(
            auditor=certificate.auditor.slug, certificate=certificate.pk, action=move,
            reason=form_text(data, "reason"))
        return statement, {"certificate": str(certificate.pk)}

    return prepare


def _assignment_end_prepare(user, data):
    from govflow.auditing.access import access_assignment
    from govflow.auditing.predicates import build_assignment_end

    assignment = access_assignment(user, form_id(data, "assignment"), act=True)
    statement = build_assignment_end(release=release_json(assignment.release),
                                     assignment=assignment.pk, reason=form_text(data, "reason"))
    return statement, {"assignment": str(assignment.pk)}


def _assignment_create_prepare(user, data):
    from govflow.auditing.access import access_assign
    from govflow.auditing.predicates import ACCESS_LEVELS, build_assignment

    release = access_assign(user, form_id(data, "release"))
    level = (data.get("access_level") or "").strip() or None
    if level is not None and level not in ACCESS_LEVELS:
        raise ValidationFailed(f"access level must be one of: {', '.join(ACCESS_LEVELS)}")
    statement = build_assignment(release=release_json(release),
                                 auditor=form_text(data, "auditor"),
                                 ends_at=rfc3339(form_when(data, "ends_at")), access_level=level)
    return statement, {"release": str(release.pk)}


def _incident_file_prepare(user, data):
    from govflow.monitoring.access import access_incident_report
    from govflow.monitoring.predicates import build_incident

    release = access_incident_report(user, form_id(data, "release"))
    statement = build_incident(release=release_json(release),
                               severity=form_text(data, "severity"),
                               category=form_text(data, "category"),
                               description=form_text(data, "description"))
    return statement, {"release": str(release.pk)}


def _incident_resolve_prepare(user, data):
    from govflow.monitoring.access import access_incident_resolve
    from govflow.monitoring.predicates import build_resolution

    incident = access_incident_resolve(user, form_id(data, "incident"))
    statement = build_resolution(release=release_json(incident.release), incident=incident.pk,
                                 resolution=form_text(data, "resolution"))
    return statement, {"incident": str(incident.pk)}


def _certificate_moved(certificate, data):  # noqa: ARG001
    return (f"Certificate {certificate.pk} is now {certificate.status}.",
            reverse("console:oversight") + "#certificates")


def _assignment_ended(assignment, data):  # noqa: ARG001
    return (f"Engagement {assignment.pk} ended; the auditor's access is revoked.",
            reverse("console:release", args=[assignment.release_id]))


def _assigned(assignment, data):  # noqa: ARG001
    return (f"{assignment.auditor.username} assigned to release {assignment.release_id} "
            f"(engagement {assignment.pk}).",
            reverse("console:release", args=[assignment.release_id]))


def _incident_filed(incident, data):  # noqa: ARG001
    paused = " The release is paused." if incident.response.get("paused") else ""
    return (f"Incident {incident.pk} filed on release {incident.release_id}.{paused}",
            reverse("console:release", args=[incident.release_id]))


def _incident_resolved(incident, data):  # noqa: ARG001
    return (f"Incident {incident.pk} resolved.",
            reverse("console:release", args=[incident.release_id]))


def _hold_placed(hold, data):  # noqa: ARG001
    return (f"Hold {hold.pk} placed on release {hold.release_id}: it advances no further.",
            reverse("console:release", args=[hold.release_id]))


def _hold_lifted(hold, data):  # noqa: ARG001
    return f"Hold {hold.pk} lifted.", reverse("console:release", args=[hold.release_id])


def _sanction_imposed(sanction, data):  # noqa: ARG001
    return (f"Sanction {sanction.pk} imposed on {sanction.lab.slug}.",
            reverse("console:oversight"))


def _sanction_lifted(sanction, data):  # noqa: ARG001
    return f"Sanction {sanction.pk} lifted.", reverse("console:oversight")


def _certified(certificate, data):  # noqa: ARG001
    return (f"Certificate {certificate.pk} issued to {certificate.auditor.slug}.",
            reverse("console:oversight"))


def _decided(row, data):  # noqa: ARG001
    finding = row.finding
    return (f"Decision on finding {finding.pk} recorded.",
            reverse("console:release", args=[finding.release_id]) + f"#finding-{finding.pk}")


ACTIONS = {a.name: a for a in [
    Action("hold-place", "Place a regulatory hold", _hold_place_prepare, "hold.place",
           _hold_placed, fields=("release", "reason")),
    Action("hold-lift", "Lift a regulatory hold", _hold_lift_prepare, "hold.lift",
           _hold_lifted, target="hold", fields=("hold", "reason")),
    Action("sanction-impose", "Impose a sanction on a lab", _sanction_impose_prepare,
           "sanction.impose", _sanction_imposed,
           fields=("lab", "stage", "min_training_compute_flop", "until", "reason")),
    Action("sanction-lift", "Lift a sanction", _sanction_lift_prepare, "sanction.lift",
           _sanction_lifted, target="sanction", fields=("sanction", "reason")),
    Action("certify", "Certify an auditor firm", _certify_prepare, "certificate.issue",
           _certified,
           fields=("auditor", "risk_areas", "access_levels", "valid_until", "standard")),
    Action("finding-decide", "Decide an escalated finding", _decide_prepare,
           "finding.statement", _decided, target="finding",
           fields=("finding", "outcome", "text")),
    *[Action(f"certificate-{move}", f"{move.capitalize()} a certificate",
             _certificate_move_prepare(move), f"certificate.{move}", _certificate_moved,
             target="certificate", fields=("certificate", "reason"))
      for move in ("suspend", "reinstate", "revoke")],
    Action("assignment-create", "Assign an auditor to a release", _assignment_create_prepare,
           "assignment.create", _assigned, target="release",
           fields=("release", "auditor", "ends_at", "access_level")),
    Action("assignment-end", "End an engagement early", _assignment_end_prepare,
           "assignment.end", _assignment_ended, target="assignment",
           fields=("assignment", "reason")),
    Action("incident-file", "File an incident", _incident_file_prepare, "incident.file",
           _incident_filed,
           fields=("release", "severity", "category", "description")),
    Action("incident-resolve", "Resolve an incident", _incident_resolve_prepare,
           "incident.resolve", _incident_resolved, target="incident",
           fields=("incident", "resolution")),
    *LAB_ACTIONS,
]}


def action_named(name: str) -> Action:
    action = ACTIONS.get(name)
    if action is None:
        not_found()
    return action
