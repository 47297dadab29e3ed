"""The signed incident statements (fields and claims only; `govflow.trust.statements`
reads the envelope and statement around them). A regulator's or an auditor's incident
and a regulator's resolution are signed acts; monitoring sources and the lab's own
gateways may still report with their tokens.

- incident::

    subject: govflow:system/<id>/v<n>, digest: the release's manifest digest
    predicate: {release, severity, category, description, evidence_digests: ["sha256:…"],
                detected_at (or null: now), nonce, signed_at}

- incident resolution::

    predicate: {release, incident, resolution, nonce, signed_at}

Standard library and `govflow.trust` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from govflow.trust.intoto import Subject
from govflow.trust.statements import (
    DIGEST,
    Reader,
    build,
    new_nonce,
    predicate,
    system_subject,
)

INCIDENT_PREDICATE = "https://govflow.dev/attestations/incident/v1"
INCIDENT_RESOLUTION_PREDICATE = "https://govflow.dev/attestations/incident-resolution/v1"
SEVERITIES = ("low", "medium", "high", "critical")
CATEGORIES = (
    "deceptive_behaviour",
    "misuse",
    "security_incident",
    "weight_exfiltration",
    "critical_infrastructure",
    "loss_of_life",
    "serious_harm",
    "other",
)
MAX_TEXT = 20000


def _subject(release: dict[str, Any]) -> Subject:
    """``release`` is the release as the API returns it (id, system, version, digest)."""
    return system_subject(release["system"], release["system_version_number"],
                          release["manifest_digest"])


@dataclass(frozen=True)
class IncidentClaim:
    release: int
    severity: str
    category: str
    description: str
    evidence_digests: list[str]
    detected_at: datetime | None
    nonce: str
    signed_at: str


def build_incident(*, release: dict[str, Any], severity: str, category: str,
                   description: str, evidence_digests: Sequence[str] = (),
                   detected_at: str | None = None, nonce: str | None = None,
                   signed_at: str | None = None) -> dict[str, Any]:
    return build(_subject(release), INCIDENT_PREDICATE, {
        "release": release["id"], "severity": severity, "category": category,
        "description": description, "evidence_digests": list(evidence_digests),
        "detected_at": detected_at, "nonce": nonce or new_nonce(), "signed_at": signed_at})


@predicate(INCIDENT_PREDICATE, subject="system")
def _incident(r: Reader, subject: Subject) -> IncidentClaim:  # noqa: ARG001
    return IncidentClaim(
        release=r.id("release"), severity=r.string("severity", choices=SEVERITIES),
        category=r.string("category", choices=CATEGORIES),
        description=r.string("description", max_length=MAX_TEXT),
        evidence_digests=r.strs("evidence_digests", pattern=DIGEST),
        detected_at=None if r.p.get("detected_at") is None else r.time("detected_at"),
        nonce=r.p["nonce"], signed_at=r.p["signed_at"],
    )


@dataclass(frozen=True)
class ResolutionClaim:
    release: int
    incident: int
    resolution: str
    nonce: str
    signed_at: str


def build_resolution(*, release: dict[str, Any], incident: int, resolution: str,
                     nonce: str | None = None, signed_at: str | None = None) -> dict[str, Any]:
    return build(_subject(release), INCIDENT_RESOLUTION_PREDICATE, {
        "release": release["id"], "incident": incident, "resolution": resolution,
        "nonce": nonce or new_nonce(), "signed_at": signed_at})


@predicate(INCIDENT_RESOLUTION_PREDICATE, subject="system")
def _resolution(r: Reader, subject: Subject) -> ResolutionClaim:  # noqa: ARG001
    return ResolutionClaim(
        release=r.id("release"), incident=r.id("incident"),
        resolution=r.string("resolution", max_length=MAX_TEXT), nonce=r.p["nonce"],
        signed_at=r.p["signed_at"],
    )
