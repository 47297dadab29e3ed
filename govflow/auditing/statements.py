"""The signed statements of third-party auditing: in-toto Statement v1 with govflow
predicates, carried in DSSE envelopes like sign-offs.

Standard library and `govflow.trust` only: the client builds statements with these
functions and the server parses them with the same ones, so both read a statement alike.

- certificate (a regulator certifies an auditor organization)::

    subject: govflow:organization/<slug>, digest sha256(<slug>)
    predicate: {auditor, risk_areas, access_levels, valid_from, valid_until, standard,
                nonce, signed_at}

- finding (an auditor reports a problem with one system version)::

    subject: govflow:system/<id>/v<n>, digest: the manifest digest
    predicate: {release, title, severity, category, description, reproduction_steps,
                attachments: [{name, sha256}], nonce, signed_at}

- finding statement (appended later: lab response, amendment, resolution, …)::

    predicate: {release, finding, action, text, severity, outcome, attachments, nonce,
                signed_at}

- audit conclusion (closes an engagement)::

    predicate: {release, engagement, result, summary, conditions, findings, nonce,
                signed_at}

`signed_at` is the signer's claim; it is recorded, never trusted. The nonce makes every
statement unique, so an envelope cannot be submitted twice.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from govflow.trust.intoto import PAYLOAD_TYPE, Statement, StatementError, Subject

__all__ = ["PAYLOAD_TYPE", "AuditStatementError", "build_certificate", "build_conclusion",
           "build_finding", "build_finding_statement", "parse_certificate", "parse_conclusion",
           "parse_finding", "parse_finding_statement"]

CERTIFICATE_PREDICATE = "https://govflow.dev/attestations/auditor-certificate/v1"
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

MAX_TEXT = 20000
MAX_ITEMS = 100
_SLUG = re.compile(r"^[a-z][a-z0-9_-]{0,79}$")
NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
_HEX = re.compile(r"^[0-9a-f]{64}$")
_SYSTEM = re.compile(r"^govflow:system/(\d+)/v(\d+)$")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


class AuditStatementError(ValueError):
    """The statement is not well formed (says which field)."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def system_subject(system_id: int, version_number: int, manifest_digest: str) -> Subject:
    return Subject(f"govflow:system/{system_id}/v{version_number}",
                   {"sha256": manifest_digest.removeprefix("sha256:")})


def organization_subject(slug: str) -> Subject:
    # An organization has no content to hash; the digest of its slug makes the subject
    # name exactly one organization, as in-toto wants every subject to carry a digest.
    return Subject(f"govflow:organization/{slug}",
                   {"sha256": hashlib.sha256(slug.encode("utf-8")).hexdigest()})


# --- building (the client) ---------------------------------------------------------------


def build_certificate(*, auditor: str, risk_areas: list[str], access_levels: list[str],
                      valid_from: str, valid_until: str, standard: str = "",
                      nonce: str | None = None, signed_at: str | None = None) -> dict[str, Any]:
    predicate = {"auditor": auditor, "risk_areas": list(risk_areas),
                 "access_levels": list(access_levels), "valid_from": valid_from,
                 "valid_until": valid_until, "standard": standard,
                 "nonce": nonce or new_nonce(), "signed_at": signed_at}
    return Statement((organization_subject(auditor),), CERTIFICATE_PREDICATE,
                     predicate).to_dict()


def build_finding(*, release: dict[str, Any], title: str, severity: str, category: str,
                  description: str, reproduction_steps: list[str],
                  attachments: Sequence[dict[str, str]] = (), nonce: str | None = None,
                  signed_at: str | None = None) -> dict[str, Any]:
    """``release`` is the release as the API returns it (id, system, version, digest)."""
    predicate = {"release": release["id"], "title": title, "severity": severity,
                 "category": category, "description": description,
                 "reproduction_steps": list(reproduction_steps),
                 "attachments": [dict(a) for a in attachments],
                 "nonce": nonce or new_nonce(), "signed_at": signed_at}
    return Statement((_release_subject(release),), FINDING_PREDICATE, predicate).to_dict()


def build_finding_statement(*, release: dict[str, Any], finding: int, action: str,
                            text: str, severity: str | None = None, outcome: str | None = None,
                            attachments: Sequence[dict[str, str]] = (), nonce: str | None = None,
                            signed_at: str | None = None) -> dict[str, Any]:
    predicate = {"release": release["id"], "finding": finding, "action": action, "text": text,
                 "severity": severity, "outcome": outcome,
                 "attachments": [dict(a) for a in attachments],
                 "nonce": nonce or new_nonce(), "signed_at": signed_at}
    return Statement((_release_subject(release),), FINDING_STATEMENT_PREDICATE,
                     predicate).to_dict()


def build_conclusion(*, release: dict[str, Any], engagement: int, result: str, summary: str,
                     findings: list[int], conditions: Sequence[str] = (),
                     nonce: str | None = None, signed_at: str | None = None) -> dict[str, Any]:
    predicate = {"release": release["id"], "engagement": engagement, "result": result,
                 "summary": summary, "conditions": list(conditions),
                 "findings": sorted(findings), "nonce": nonce or new_nonce(),
                 "signed_at": signed_at}
    return Statement((_release_subject(release),), CONCLUSION_PREDICATE, predicate).to_dict()


def _release_subject(release: dict[str, Any]) -> Subject:
    return system_subject(release["system"], release["system_version_number"],
                          release["manifest_digest"])


# --- parsing (the server) ----------------------------------------------------------------


class _Reader:
    """Typed access to a predicate; every problem names its path."""

    def __init__(self, predicate: dict[str, Any]):
        self.p = predicate

    def fail(self, key: str, message: str) -> AuditStatementError:
        return AuditStatementError(f"predicate.{key}", message)

    def id(self, key: str) -> int:
        value = self.p.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(key, f"must be a positive id, got {value!r}")
        return value

    def string(self, key: str, *, max_length: int = 200, allow_empty: bool = False,
            pattern: re.Pattern | None = None, choices: tuple[str, ...] | None = None) -> str:
        value = self.p.get(key)
        if not isinstance(value, str) or (not value.strip() and not allow_empty):
            raise self.fail(key, f"must be a {'' if allow_empty else 'non-empty '}string, "
                                 f"got {value!r}")
        if len(value) > max_length:
            raise self.fail(key, f"must be at most {max_length} characters")
        if choices is not None and value not in choices:
            raise self.fail(key, f"{value!r} is not one of: {', '.join(choices)}")
        if pattern is not None and not pattern.match(value):
            raise self.fail(key, f"{value!r} does not match {pattern.pattern}")
        return value

    def optional(self, key: str, choices: tuple[str, ...]) -> str | None:
        return None if self.p.get(key) is None else self.string(key, choices=choices)

    def strs(self, key: str, *, max_length: int = 4000, pattern: re.Pattern | None = None,
             choices: tuple[str, ...] | None = None, min_items: int = 0) -> list[str]:
        value = self.p.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip()
                                                  for v in value):
            raise self.fail(key, f"must be a list of non-empty strings, got {value!r}")
        if not min_items <= len(value) <= MAX_ITEMS:
            raise self.fail(key, f"must have {min_items} to {MAX_ITEMS} items")
        for v in value:
            if len(v) > max_length:
                raise self.fail(key, f"items must be at most {max_length} characters")
            if choices is not None and v not in choices:
                raise self.fail(key, f"{v!r} is not one of: {', '.join(choices)}")
            if pattern is not None and not pattern.match(v):
                raise self.fail(key, f"{v!r} does not match {pattern.pattern}")
        if len(set(value)) != len(value):
            raise self.fail(key, "lists an item twice")
        return value

    def ids(self, key: str) -> list[int]:
        value = self.p.get(key)
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value
        ):
            raise self.fail(key, f"must be a list of positive ids, got {value!r}")
        if len(set(value)) != len(value):
            raise self.fail(key, "lists an id twice")
        return sorted(value)

    def time(self, key: str) -> datetime:
        raw = self.string(key, max_length=64)
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError as exc:
            raise self.fail(key, "must be an ISO 8601 time") from exc
        if moment.tzinfo is None:
            raise self.fail(key, "must name its time zone (e.g. end in Z)")
        return moment

    def attachments(self) -> list[tuple[str, str]]:
        value = self.p.get("attachments")
        if not isinstance(value, list) or len(value) > 20:
            raise self.fail("attachments", "must be a list of at most 20 {name, sha256}")
        out = []
        for n, item in enumerate(value):
            if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not (
                0 < len(item["name"]) <= 255
            ):
                raise self.fail(f"attachments[{n}].name", "must be a file name")
            if not isinstance(item.get("sha256"), str) or not _HEX.match(item["sha256"]):
                raise self.fail(f"attachments[{n}].sha256", "must be 64 lowercase hex digits")
            out.append((item["name"], item["sha256"]))
        if len({sha for _, sha in out}) != len(out):
            raise self.fail("attachments", "lists a digest twice")
        return out

    def common(self) -> tuple[str, str]:
        """(nonce, claimed signing time) — every statement has both."""
        nonce = self.string("nonce", pattern=_NONCE, max_length=128)
        self.time("signed_at")
        return nonce, self.p["signed_at"]


def _open(payload: bytes, predicate_type: str) -> tuple[Statement, _Reader]:
    try:
        statement = Statement.parse(payload)
    except StatementError as exc:
        raise AuditStatementError("statement", str(exc)) from exc
    if statement.predicate_type != predicate_type:
        raise AuditStatementError(
            "predicateType", f"must be {predicate_type!r}, got {statement.predicate_type!r}"
        )
    if len(statement.subjects) != 1:
        raise AuditStatementError("subject", "names exactly one subject")
    return statement, _Reader(dict(statement.predicate))


def _system(statement: Statement) -> tuple[str, str]:
    subject = statement.subjects[0]
    if not _SYSTEM.match(subject.name) or set(subject.digest) != {"sha256"}:
        raise AuditStatementError("subject[0]", "must be govflow:system/<id>/v<number> with "
                                                "its manifest's sha256")
    return subject.name, "sha256:" + subject.digest["sha256"]


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


def parse_certificate(payload: bytes) -> tuple[dict[str, Any], CertificateClaim]:
    statement, r = _open(payload, CERTIFICATE_PREDICATE)
    auditor = r.string("auditor", pattern=_SLUG, max_length=80)
    if statement.subjects[0] != organization_subject(auditor):
        raise AuditStatementError("subject[0]", f"must name the organization {auditor!r}")
    valid_from, valid_until = r.time("valid_from"), r.time("valid_until")
    if valid_until <= valid_from:
        raise r.fail("valid_until", "must be after valid_from")
    levels = r.strs("access_levels", choices=ACCESS_LEVELS, min_items=1)
    nonce, signed_at = r.common()
    return statement.to_dict(), CertificateClaim(
        auditor=auditor, risk_areas=r.strs("risk_areas", pattern=NAME, min_items=1),
        access_levels=sorted(levels, key=ACCESS_LEVELS.index), valid_from=valid_from,
        valid_until=valid_until, standard=r.string("standard", allow_empty=True),
        nonce=nonce, signed_at=signed_at,
    )


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


def parse_finding(payload: bytes) -> tuple[dict[str, Any], FindingClaim]:
    statement, r = _open(payload, FINDING_PREDICATE)
    subject_name, manifest_digest = _system(statement)
    nonce, signed_at = r.common()
    return statement.to_dict(), FindingClaim(
        release=r.id("release"), subject_name=subject_name, manifest_digest=manifest_digest,
        title=r.string("title"), severity=r.string("severity", choices=SEVERITIES),
        category=r.string("category", pattern=NAME, max_length=64),
        description=r.string("description", max_length=MAX_TEXT),
        reproduction_steps=r.strs("reproduction_steps"), attachments=r.attachments(),
        nonce=nonce, signed_at=signed_at,
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


def parse_finding_statement(payload: bytes) -> tuple[dict[str, Any], FindingStatementClaim]:
    statement, r = _open(payload, FINDING_STATEMENT_PREDICATE)
    subject_name, manifest_digest = _system(statement)
    action = r.string("action", choices=ACTIONS)
    severity = r.optional("severity", SEVERITIES)
    outcome = r.optional("outcome", OUTCOMES)
    if severity is not None and action != "amend":
        raise r.fail("severity", "only an amendment changes the severity")
    if (outcome is None) == (action == "decide"):
        raise r.fail("outcome", "a decision needs an outcome; other actions have none")
    nonce, signed_at = r.common()
    return statement.to_dict(), FindingStatementClaim(
        release=r.id("release"), finding=r.id("finding"), subject_name=subject_name,
        manifest_digest=manifest_digest, action=action,
        text=r.string("text", max_length=MAX_TEXT), severity=severity, outcome=outcome,
        attachments=r.attachments(), nonce=nonce, signed_at=signed_at,
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


def parse_conclusion(payload: bytes) -> tuple[dict[str, Any], ConclusionClaim]:
    statement, r = _open(payload, CONCLUSION_PREDICATE)
    subject_name, manifest_digest = _system(statement)
    result = r.string("result", choices=RESULTS)
    conditions = r.strs("conditions")
    if (result == "pass_with_conditions") != bool(conditions):
        raise r.fail("conditions", "pass_with_conditions lists its conditions; other results "
                                   "list none")
    nonce, signed_at = r.common()
    return statement.to_dict(), ConclusionClaim(
        release=r.id("release"), engagement=r.id("engagement"), subject_name=subject_name,
        manifest_digest=manifest_digest, result=result,
        summary=r.string("summary", max_length=MAX_TEXT), conditions=conditions,
        findings=r.ids("findings"), nonce=nonce, signed_at=signed_at,
    )
