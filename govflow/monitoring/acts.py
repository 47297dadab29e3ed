"""The signed incident acts, as the kernel runs them (`govflow.keys.acts`)."""

from __future__ import annotations

from govflow.keys.acts import SignedAct, signed_act
from govflow.monitoring.access import access_incident_report, access_incident_resolve
from govflow.monitoring.predicates import INCIDENT_PREDICATE, INCIDENT_RESOLUTION_PREDICATE
from govflow.monitoring.services.incidents import incident_file_signed, incident_resolve_signed


def _on_release(actor, claim, target) -> None:  # noqa: ARG001
    access_incident_report(actor, claim.release)


def _on_incident(actor, claim, target) -> None:  # noqa: ARG001
    access_incident_resolve(actor, target)


INCIDENT_FILE = signed_act(SignedAct("incident.file", INCIDENT_PREDICATE, authorise=_on_release,
                                     record=incident_file_signed))
INCIDENT_RESOLVE = signed_act(SignedAct("incident.resolve", INCIDENT_RESOLUTION_PREDICATE,
                                        authorise=_on_incident,
                                        record=incident_resolve_signed))
