"""The predicates of third-party auditing (fields and claims only; `govflow.trust.statements`
reads the envelope and statement around them).

- certificate (a regulator certifies an auditor organization)::

    subject: govflow:organization/<slug>
    predicate: {auditor, risk_areas, access_levels, valid_from, valid_until, standard}

- certificate status (a regulator suspends, reinstates or revokes a certificate)::

    subject: govflow:organization/<slug>
    predicate: {auditor, certificate, action: suspend|reinstate|revoke, reason}

- assignment (a regulator assigns an auditor to a release) and its early end::

    subject: govflow:system/<id>/v<n>, digest: the manifest digest
    predicate: {release, auditor, ends_at, access_level}    (assignment)
    predicate: {release, assignment, reason}                  (assignment end)

- finding, finding statement, audit conclusion (auditors, the lab, the regulator)::

    subject: govflow:system/<id>/v<n>
    predicate: {release, title, severity, category, description, reproduction_steps,
                attachments: [{name, sha256}]}
    predicate: {release, finding, action, text, severity, outcome, attachments}
    predicate: {release, engagement, result, summary, conditions, findings}

Every predicate also carries `nonce` and `signed_at` (the signer's claim, never trusted).
Standard library and `govflow.trust` only: the client builds with these functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from govflow.trust.intoto import Subject
from govflow.trust.statements import (
    NAME,
    Reader,
    build,
    new_nonce,
    organization_subject,
    predicate,
    system_subject,
)

CERTIFICATE_PREDICATE = "https://govflow.dev/attestations/auditor-certificate/v1"
CERTIFICATE_STATUS_PREDICATE = "https://govflow.dev/attestations/certificate-status/v1"
ASSIGNMENT_PREDICATE = "https://govflow.dev/attestations/assignment/v1"
ASSIGNMENT_END_PREDICATE = "https://govflow.dev/attestations/assignment-end/v1"
FINDING_PREDICATE = "https://govflow.dev/attestations/finding/v1"
FINDING_STATEMENT_PREDICATE = "https://govflow.dev/attestations/finding-statement/v1"
CONCLUSION_PREDICATE = "https://govflow.dev/attestations/audit-conclusion/v1"

# In order: a level includes what the ones before it allow.
ACCESS_LEVELS = ("black_box", "grey_box", "white_box")
SEVERITIES = ("info", "low", "medium", "high", "critical")
RESULTS = ("pass", "pass_with_conditions", "fail")
# What can be appended to a finding, and what a regulator's decision may say.
ACTIONS = ("respond", "amend", "resolve", "accept_risk", "dispute", "escalate", "decide")
OUTCOMES = ("upheld", "resolved", "risk_accepted")
CERTIFICATE_MOVES = ("suspend", "reinstate", "revoke")
MAX_TEXT = 20000
USERNAME_LENGTH = 150


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


def _release_subject(release: dict[str, Any]) -> Subject:
    """``release`` is the release as the API returns it (id, system, version, digest)."""
    return system_subject(release["system"], release["system_version_number"],
                          release["manifest_digest"])


def _signed(fields: dict[str, Any], nonce: str | None, signed_at: str | None) -> dict[str, Any]:
    return {**fields, "nonce": nonce or new_nonce(), "signed_at": signed_at}


def _system(subject: Subject) -> tuple[str, str]:
    return subject.name, "sha256:" + subject.digest["sha256"]


# --- certificates --------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateClaim:
    auditor: str
    risk_areas: list[str]
    access_levels: list[str]
    valid_from: datetime
    valid_until: datetime
    standard: str
    nonce: str
    signed_at: str


def build_certificate(*, auditor: str, risk_areas: Sequence[str], access_levels: Sequence[str],
                      valid_from: str, valid_until: str, standard: str = "",
                      nonce: str | None = None, signed_at: str | None = None) -> dict[str, Any]:
    return build(organization_subject(auditor), CERTIFICATE_PREDICATE, _signed({
        "auditor": auditor, "risk_areas": list(risk_areas),
        "access_levels": list(access_levels), "valid_from": valid_from,
        "valid_until": valid_until, "standard": standard}, nonce, signed_at))


def _auditor(r: Reader, subject: Subject) -> str:
    return r.organization("auditor", subject)


@predicate(CERTIFICATE_PREDICATE, subject="organization")
def _certificate(r: Reader, subject: Subject) -> CertificateClaim:
    auditor = _auditor(r, subject)
    valid_from, valid_until = r.time("valid_from"), r.time("valid_until")
    if valid_until <= valid_from:
        raise r.fail("valid_until", "must be after valid_from")
    levels = r.strs("access_levels", choices=ACCESS_LEVELS, min_items=1)
    return CertificateClaim(
        auditor=auditor, risk_areas=r.strs("risk_areas", pattern=NAME, min_items=1),
        access_levels=sorted(levels, key=ACCESS_LEVELS.index), valid_from=valid_from,
        valid_until=valid_until, standard=r.string("standard", allow_empty=True),
        nonce=r.p["nonce"], signed_at=r.p["signed_at"],
    )


@dataclass(frozen=True)
class CertificateStatusClaim:
    auditor: str
    certificate: int
    action: str
    reason: str
    nonce: str
    signed_at: str


def build_certificate_status(*, auditor: str, certificate: int, action: str, reason: str,
                             nonce: str | None = None,
                             signed_at: str | None = None) -> dict[str, Any]:
    return build(organization_subject(auditor), CERTIFICATE_STATUS_PREDICATE, _signed({
        "auditor": auditor, "certificate": certificate, "action": action, "reason": reason},
        nonce, signed_at))


@predicate(CERTIFICATE_STATUS_PREDICATE, subject="organization")
def _certificate_status(r: Reader, subject: Subject) -> CertificateStatusClaim:
    return CertificateStatusClaim(
        auditor=_auditor(r, subject), certificate=r.id("certificate"),
        action=r.string("action", choices=CERTIFICATE_MOVES),
        reason=r.string("reason", max_length=4000), nonce=r.p["nonce"],
        signed_at=r.p["signed_at"],
    )


# --- assignments ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AssignmentClaim:
    release: int
    auditor: str
    ends_at: datetime
    access_level: str | None
    subject_name: str
    manifest_digest: str
    nonce: str
    signed_at: str


def build_assignment(*, release: dict[str, Any], auditor: str, ends_at: str,
                     access_level: str | None = None, nonce: str | None = None,
                     signed_at: str | None = None) -> dict[str, Any]:
    return build(_release_subject(release), ASSIGNMENT_PREDICATE, _signed({
        "release": release["id"], "auditor": auditor, "ends_at": ends_at,
        "access_level": access_level}, nonce, signed_at))


@predicate(ASSIGNMENT_PREDICATE, subject="system")
def _assignment(r: Reader, subject: Subject) -> AssignmentClaim:
    name, digest = _system(subject)
    return AssignmentClaim(
        release=r.id("release"), auditor=r.string("auditor", max_length=USERNAME_LENGTH),
        ends_at=r.time("ends_at"), access_level=r.optional("access_level", ACCESS_LEVELS),
        subject_name=name, manifest_digest=digest, nonce=r.p["nonce"],
        signed_at=r.p["signed_at"],
    )


@dataclass(frozen=True)
class AssignmentEndClaim:
    release: int
    assignment: int
    reason: str
    subject_name: str
    manifest_digest: str
    nonce: str
    signed_at: str


def build_assignment_end(*, release: dict[str, Any], assignment: int, reason: str,
                         nonce: str | None = None,
                         signed_at: str | None = None) -> dict[str, Any]:
    return build(_release_subject(release), ASSIGNMENT_END_PREDICATE, _signed({
        "release": release["id"], "assignment": assignment, "reason": reason},
        nonce, signed_at))


@predicate(ASSIGNMENT_END_PREDICATE, subject="system")
def _assignment_end(r: Reader, subject: Subject) -> AssignmentEndClaim:
    name, digest = _system(subject)
    return AssignmentEndClaim(
        release=r.id("release"), assignment=r.id("assignment"),
        reason=r.string("reason", max_length=4000), subject_name=name,
        manifest_digest=digest, nonce=r.p["nonce"], signed_at=r.p["signed_at"],
    )


# --- findings and conclusions --------------------------------------------------------------


@dataclass(frozen=True)
class FindingClaim:
    release: int
    subject_name: str
    manifest_digest: str
    title: str
    severity: str
    category: str
    description: str
    reproduction_steps: list[str]
    attachments: list[tuple[str, str]]
    nonce: str
    signed_at: str


def build_finding(*, release: dict[str, Any], title: str, severity: str, category: str,
                  description: str, reproduction_steps: Sequence[str],
                  attachments: Sequence[dict[str, str]] = (), nonce: str | None = None,
                  signed_at: str | None = None) -> dict[str, Any]:
    return build(_release_subject(release), FINDING_PREDICATE, _signed({
        "release": release["id"], "title": title, "severity": severity,
        "category": category, "description": description,
        "reproduction_steps": list(reproduction_steps),
        "attachments": [dict(a) for a in attachments]}, nonce, signed_at))


@predicate(FINDING_PREDICATE, subject="system")
def _finding(r: Reader, subject: Subject) -> FindingClaim:
    name, digest = _system(subject)
    return FindingClaim(
        release=r.id("release"), subject_name=name, manifest_digest=digest,
        title=r.string("title"), severity=r.string("severity", choices=SEVERITIES),
        category=r.string("category", pattern=NAME, max_length=64),
        description=r.string("description", max_length=MAX_TEXT),
        reproduction_steps=r.strs("reproduction_steps"), attachments=r.attachments(),
        nonce=r.p["nonce"], signed_at=r.p["signed_at"],
    )


@dataclass(frozen=True)
class FindingStatementClaim:
    release: int
    finding: int
    subject_name: str
    manifest_digest: str
    action: str
    text: str
    severity: str | None
    outcome: str | None
    attachments: list[tuple[str, str]]
    nonce: str
    signed_at: str


def build_finding_statement(*, release: dict[str, Any], finding: int, action: str,
                            text: str, severity: str | None = None, outcome: str | None = None,
                            attachments: Sequence[dict[str, str]] = (), nonce: str | None = None,
                            signed_at: str | None = None) -> dict[str, Any]:
    return build(_release_subject(release), FINDING_STATEMENT_PREDICATE, _signed({
        "release": release["id"], "finding": finding, "action": action, "text": text,
        "severity": severity, "outcome": outcome,
        "attachments": [dict(a) for a in attachments]}, nonce, signed_at))


@predicate(FINDING_STATEMENT_PREDICATE, subject="system")
def _finding_statement(r: Reader, subject: Subject) -> FindingStatementClaim:
    name, digest = _system(subject)
    action = r.string("action", choices=ACTIONS)
    severity = r.optional("severity", SEVERITIES)
    outcome = r.optional("outcome", OUTCOMES)
    if severity is not None and action != "amend":
        raise r.fail("severity", "only an amendment changes the severity")
    if (outcome is None) == (action == "decide"):
        raise r.fail("outcome", "a decision needs an outcome; other actions have none")
    return FindingStatementClaim(
        release=r.id("release"), finding=r.id("finding"), subject_name=name,
        manifest_digest=digest, action=action, text=r.string("text", max_length=MAX_TEXT),
        severity=severity, outcome=outcome, attachments=r.attachments(),
        nonce=r.p["nonce"], signed_at=r.p["signed_at"],
    )


@dataclass(frozen=True)
class ConclusionClaim:
    release: int
    engagement: int
    subject_name: str
    manifest_digest: str
    result: str
    summary: str
    conditions: list[str]
    findings: list[int]
    nonce: str
    signed_at: str


def build_conclusion(*, release: dict[str, Any], engagement: int, result: str, summary: str,
                     findings: Sequence[int], conditions: Sequence[str] = (),
                     nonce: str | None = None, signed_at: str | None = None) -> dict[str, Any]:
    return build(_release_subject(release), CONCLUSION_PREDICATE, _signed({
        "release": release["id"], "engagement": engagement, "result": result,
        "summary": summary, "conditions": list(conditions), "findings": sorted(findings)},
        nonce, signed_at))


@predicate(CONCLUSION_PREDICATE, subject="system")
def _conclusion(r: Reader, subject: Subject) -> ConclusionClaim:
    name, digest = _system(subject)
    result = r.string("result", choices=RESULTS)
    conditions = r.strs("conditions")
    if (result == "pass_with_conditions") != bool(conditions):
        raise r.fail("conditions", "pass_with_conditions lists its conditions; other results "
                                   "list none")
    return ConclusionClaim(
        release=r.id("release"), engagement=r.id("engagement"), subject_name=name,
        manifest_digest=digest, result=result,
        summary=r.string("summary", max_length=MAX_TEXT), conditions=conditions,
        findings=r.ids("findings"), nonce=r.p["nonce"], signed_at=r.p["signed_at"],
    )
