"""The sign-off statement: an in-toto Statement v1 with a govflow predicate.

Standard library and `govflow.trust` only, so the client and the offline verifier can
read statements exactly as the server does.

    {"_type": "https://in-toto.io/Statement/v1",
     "subject": [{"name": "govflow:system/<system id>/v<number>",
                  "digest": {"sha256": "<manifest digest, hex>"}}],
     "predicateType": "https://govflow.dev/attestations/signoff/v1",
     "predicate": {"release": 7, "transition": {"from": "internal_evals",
                   "to": "third_party_audit"},
                   "stage_entry": 31, "gate_report_digest": "sha256:…",
                   "policy_digest": "sha256:…", "role": "lab_signer",
                   "decision": "approve", "comment": "…", "nonce": "…",
                   "signed_at": "2025-01-01T12:00:00Z"}}

`stage_entry` is the id of the stage transition that brought the release into its
current stage, so a sign-off given before a rollback never counts after it, even when
the evidence is unchanged. `signed_at` is the signer's claim; it is recorded, never
trusted (the log's own time is what counts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from govflow.trust.intoto import PAYLOAD_TYPE, Statement, StatementError, Subject

__all__ = ["PAYLOAD_TYPE", "PREDICATE_TYPE", "SignoffClaim", "SignoffStatementError",
           "build_statement", "parse_statement", "subject_name"]

PREDICATE_TYPE = "https://govflow.dev/attestations/signoff/v1"
DECISIONS = ("approve", "reject")
MAX_COMMENT = 4000
_SUBJECT = re.compile(r"^govflow:system/(\d+)/v(\d+)$")
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


class SignoffStatementError(ValueError):
    """The statement is not a well-formed govflow sign-off (says which field)."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class SignoffClaim:
    """What a sign-off statement claims, once parsed and checked for shape."""

    release: int
    from_stage: str
    to_stage: str
    stage_entry: int
    gate_report_digest: str
    policy_digest: str
    manifest_digest: str  # "sha256:<hex>", from the subject
    subject_name: str
    role: str
    decision: str
    comment: str
    nonce: str
    signed_at: str


def subject_name(system_id: int, version_number: int) -> str:
    return f"govflow:system/{system_id}/v{version_number}"


def build_statement(
    *, release: int, system_id: int, version_number: int, manifest_digest: str,
    from_stage: str, to_stage: str, stage_entry: int, gate_report_digest: str,
    policy_digest: str, role: str, decision: str, comment: str, nonce: str,
    signed_at: str | None = None,
) -> dict[str, Any]:
    """The statement to sign, as a JSON object (the client fills `signed_at`)."""
    subject = Subject(subject_name(system_id, version_number),
                      {"sha256": manifest_digest.removeprefix("sha256:")})
    predicate = {
        "release": release,
        "transition": {"from": from_stage, "to": to_stage},
        "stage_entry": stage_entry,
        "gate_report_digest": gate_report_digest,
        "policy_digest": policy_digest,
        "role": role,
        "decision": decision,
        "comment": comment,
        "nonce": nonce,
        "signed_at": signed_at,
    }
    return Statement((subject,), PREDICATE_TYPE, predicate).to_dict()


def _int(predicate: dict, key: str) -> int:
    value = predicate.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SignoffStatementError(f"predicate.{key}", f"must be a positive id, got {value!r}")
    return value


def _str(container: dict, key: str, path: str, *, pattern: re.Pattern | None = None,
         max_length: int = 200, allow_empty: bool = False) -> str:
    value = container.get(key)
    if not isinstance(value, str) or (not value and not allow_empty):
        raise SignoffStatementError(path, f"must be a {'' if allow_empty else 'non-empty '}"
                                          f"string, got {value!r}")
    if len(value) > max_length:
        raise SignoffStatementError(path, f"must be at most {max_length} characters")
    if pattern is not None and not pattern.match(value):
        raise SignoffStatementError(path, f"{value!r} does not match {pattern.pattern}")
    return value


def parse_statement(payload: bytes) -> tuple[dict[str, Any], SignoffClaim]:
    """Parse a DSSE payload into (statement as JSON, claim); raises SignoffStatementError."""
    try:
        statement = Statement.parse(payload)
    except StatementError as exc:
        raise SignoffStatementError("statement", str(exc)) from exc
    if statement.predicate_type != PREDICATE_TYPE:
        raise SignoffStatementError(
            "predicateType", f"must be {PREDICATE_TYPE!r}, got {statement.predicate_type!r}"
        )
    if len(statement.subjects) != 1:
        raise SignoffStatementError("subject", "a sign-off names exactly one system version")
    subject = statement.subjects[0]
    if not _SUBJECT.match(subject.name):
        raise SignoffStatementError("subject[0].name", "must be govflow:system/<id>/v<number>")
    if set(subject.digest) != {"sha256"}:
        raise SignoffStatementError("subject[0].digest", "must be {sha256: <manifest digest>}")
    p = dict(statement.predicate)
    transition = p.get("transition")
    if not isinstance(transition, dict):
        raise SignoffStatementError("predicate.transition", "must be {from, to}")
    decision = _str(p, "decision", "predicate.decision")
    if decision not in DECISIONS:
        raise SignoffStatementError("predicate.decision", f"must be one of {', '.join(DECISIONS)}")
    signed_at = _str(p, "signed_at", "predicate.signed_at", max_length=64)
    try:
        datetime.fromisoformat(signed_at.replace("Z", "+00:00"))
    except ValueError as exc:
        raise SignoffStatementError("predicate.signed_at", "must be an ISO 8601 time") from exc
    claim = SignoffClaim(
        release=_int(p, "release"),
        from_stage=_str(transition, "from", "predicate.transition.from", max_length=64),
        to_stage=_str(transition, "to", "predicate.transition.to", max_length=64),
        stage_entry=_int(p, "stage_entry"),
        gate_report_digest=_str(p, "gate_report_digest", "predicate.gate_report_digest",
                                pattern=_DIGEST),
        policy_digest=_str(p, "policy_digest", "predicate.policy_digest", pattern=_DIGEST),
        manifest_digest="sha256:" + subject.digest["sha256"],
        subject_name=subject.name,
        role=_str(p, "role", "predicate.role", max_length=32),
        decision=decision,
        comment=_str(p, "comment", "predicate.comment", max_length=MAX_COMMENT,
                     allow_empty=True),
        nonce=_str(p, "nonce", "predicate.nonce", pattern=_NONCE, max_length=128),
        signed_at=signed_at,
    )
    return statement.to_dict(), claim
