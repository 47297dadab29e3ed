"""Authorisation for monitoring: see the release first (else 404), then role (else 403).

Anyone who can see a release may report an incident on it — its lab, an auditor assigned
to it, a regulator — because the person who notices trouble is not always the one who
runs the release. Resolving one is for the lab's release managers and safety officers
and for regulators; reports to the regulator are the lab's to file.
"""

from __future__ import annotations

from django.http import Http404

from govflow.accounts.models import OrganizationKind, Role
from govflow.accounts.selectors import user_organization, user_roles
from govflow.core.errors import PermissionDenied
from govflow.monitoring.models import Incident, MonitoringSource, Reevaluation
from govflow.monitoring.selectors import (
    incidents_visible_to,
    reevaluations_visible_to,
    sources_visible_to,
)
from govflow.releases.access import access_release, access_release_action
from govflow.releases.models import Release

LAB_STAFF = (Role.RELEASE_MANAGER, Role.LAB_SIGNER, Role.SAFETY_OFFICER)
STEWARDS = (Role.RELEASE_MANAGER, Role.SAFETY_OFFICER)


def _visible(qs, pk: int):
    row = qs.filter(pk=pk).first()
    if row is None:
        raise Http404
    return row


def access_sources_manage(user, release_id: int) -> Release:
    return access_release_action(user, release_id, STEWARDS)


def access_source(user, pk: int, *, roles=LAB_STAFF) -> MonitoringSource:
    source = _visible(sources_visible_to(user), pk)
    access_release_action(user, source.release_id, roles)
    return source


def access_incident_report(user, release_id: int) -> Release:
    return access_release(user, release_id)


def require_unsigned_allowed(user, what: str) -> None:
    """A regulator's or an auditor's incident acts pause or close a lab's release: they
    are signed statements the offline verifier can check, never a bare token's say."""
    org = user_organization(user)
    if org is not None and org.kind in (OrganizationKind.REGULATOR, OrganizationKind.AUDITOR):
        raise PermissionDenied(f"{what} by a {org.kind} is a signed statement: send "
                               "{\"envelope\": …} (python -m govflow.client incident)",
                               detail={"rule": "signature_required"})


def access_incident(user, pk: int) -> Incident:
    return _visible(incidents_visible_to(user), pk)


def _lab_roles_or_regulator(user, release_id: int, roles) -> None:
    given = user_roles(user)
    if Role.REGULATOR in given:
        return
    org = user_organization(user)
    if org is None or not set(roles) & given or org.pk != _release_org(release_id):
        raise PermissionDenied("this needs one of these roles in the release's lab, or a "
                               "regulator: " + ", ".join(sorted(roles)), detail={"rule": "role"})


def _release_org(release_id: int) -> int | None:
    return Release.objects.filter(pk=release_id).values_list("organization_id", flat=True).first()


def access_incident_resolve(user, pk: int) -> Incident:
    incident = access_incident(user, pk)
    _lab_roles_or_regulator(user, incident.release_id, STEWARDS)
    return incident


def access_incident_file_report(user, pk: int) -> Incident:
    incident = access_incident(user, pk)
    access_release_action(user, incident.release_id, STEWARDS)
    return incident


def access_reevaluation_result(user, pk: int) -> Reevaluation:
    reevaluation = _visible(reevaluations_visible_to(user), pk)
    _lab_roles_or_regulator(user, reevaluation.release_id, (Role.SAFETY_OFFICER,))
    return reevaluation
