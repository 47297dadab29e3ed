"""Authorisation for monitoring: see the release first (else 404), then role (else 403).

Anyone who can see a release may report an incident on it — its lab, an auditor assigned
to it, a regulator — because the person who notices trouble is not always the one who
runs the release. Resolving one is for the lab's release managers and safety officers
and for regulators; reports to the regulator are the lab's to file. Every person's
incident and resolution is a signed act (`govflow.monitoring.acts`); only a machine token
(`govflow.accounts.machine`) files with a bare token, on its one release.
"""

from __future__ import annotations

from govflow.accounts.access import (
    LAB_STAFF,
    STEWARDS,
    require_lab_role_or_regulator,
    visible_or_404,
)
from govflow.accounts.machine import machine_release
from govflow.accounts.models import Role
from govflow.monitoring.models import Incident, MonitoringSource, Reevaluation
from govflow.monitoring.selectors import (
    incidents_visible_to,
    reevaluations_visible_to,
    sources_visible_to,
)
from govflow.releases.access import access_release, access_release_action
from govflow.releases.models import Release


def access_sources_manage(user, release_id: int) -> Release:
    return access_release_action(user, release_id, STEWARDS)


def access_source(user, pk: int, *, roles=LAB_STAFF) -> MonitoringSource:
    source = visible_or_404(sources_visible_to(user), pk)
    access_release_action(user, source.release_id, roles)
    return source


def access_incident_report(user, release_id: int) -> Release:
    return access_release(user, release_id)


def access_machine_tokens(user, release_id: int, *, issue: bool = False) -> Release:
    """The lab's stewards see and revoke a release's machine tokens; only its release
    managers issue them (a token that can pause the release is theirs to hand out)."""
    return access_release_action(user, release_id,
                                 (Role.RELEASE_MANAGER,) if issue else STEWARDS)


def access_incident_machine(token, release_id: int) -> Release:
    """A machine token files on its own release only (404 for any other), and only while
    its owner may still see that release."""
    machine_release(token, release_id)
    return access_release(token.user, release_id)


def access_incident(user, pk: int) -> Incident:
    return visible_or_404(incidents_visible_to(user), pk)


def access_incident_resolve(user, pk: int) -> Incident:
    incident = access_incident(user, pk)
    require_lab_role_or_regulator(user, incident.release.organization_id, STEWARDS)
    return incident


def access_incident_file_report(user, pk: int) -> Incident:
    incident = access_incident(user, pk)
    access_release_action(user, incident.release_id, STEWARDS)
    return incident


def access_reevaluation_result(user, pk: int) -> Reevaluation:
    reevaluation = visible_or_404(reevaluations_visible_to(user), pk)
    require_lab_role_or_regulator(user, reevaluation.release.organization_id,
                                  (Role.SAFETY_OFFICER,))
    return reevaluation
