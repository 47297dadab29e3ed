"""The cohort-growth statement: a signed approval to grow a cohort past a policy step.

Standard library and `govflow.trust` only, like the sign-off statement it mirrors:

    {"_type": "https://in-toto.io/Statement/v1",
     "subject": [{"name": "govflow:system/<system id>/v<number>",
                  "digest": {"sha256": "<manifest digest, hex>"}}],
     "predicateType": "https://govflow.dev/attestations/cohort-growth/v1",
     "predicate": {"release": 7, "stage": "limited_rollout", "up_to": 500,
                   "role": "safety_officer", "decision": "approve", "comment": "…",
                   "nonce": "…", "signed_at": "2025-01-01T12:00:00Z"}}

Approvals are counted with the sign-offs' rule (`govflow.signoffs.tally`): each role the
policy's `step_approvals` names needs its count of distinct people, a person's latest
statement for the step is theirs, and a reject vetoes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from govflow.signoffs.statement import subject_name
from govflow.trust.intoto import PAYLOAD_TYPE, Statement, StatementError, Subject

__all__ = ["PAYLOAD_TYPE", "PREDICATE_TYPE", "GrowthClaim", "GrowthStatementError",
           "build_statement", "parse_statement"]

PREDICATE_TYPE = "https://govflow.dev/attestations/cohort-growth/v1"
DECISIONS = ("approve", "reject")
_SUBJECT = re.compile(r"^govflow:system/(\d+)/v(\d+)$")
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
_STAGE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class GrowthStatementError(ValueError):
    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class GrowthClaim:
    release: int
    stage: str
    up_to: int
    subject_name: str
    manifest_digest: str
    role: str
    decision: str
    comment: str
    nonce: str
    signed_at: str


def build_statement(*, release: int, stage: str, up_to: int, system_id: int,
                    version_number: int, manifest_digest: str, role: str, decision: str,
                    comment: str, nonce: str, signed_at: str | None = None) -> dict[str, Any]:
    subject = Subject(subject_name(system_id, version_number),
                      {"sha256": manifest_digest.removeprefix("sha256:")})
    predicate = {"release": release, "stage": stage, "up_to": up_to,
                 "role": role, "decision": decision, "comment": comment, "nonce": nonce,
                 "signed_at": signed_at}
    return Statement((subject,), PREDICATE_TYPE, predicate).to_dict()


def _positive(p: dict, key: str) -> int:
    value = p.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise GrowthStatementError(f"predicate.{key}", f"must be a positive whole number, "
                                                        f"got {value!r}")
    return value


def _text(p: dict, key: str, *, pattern: re.Pattern | None = None, max_length: int = 200,
          allow_empty: bool = False) -> str:
    value = p.get(key)
    if not isinstance(value, str) or (not value and not allow_empty) or len(value) > max_length:
        raise GrowthStatementError(f"predicate.{key}", f"must be a string of at most "
                                                        f"{max_length} characters")
    if pattern is not None and not pattern.match(value):
        raise GrowthStatementError(f"predicate.{key}", f"{value!r} does not match "
                                                        f"{pattern.pattern}")
    return value


def parse_statement(payload: bytes) -> tuple[dict[str, Any], GrowthClaim]:
    try:
        statement = Statement.parse(payload)
    except StatementError as exc:
        raise GrowthStatementError("statement", str(exc)) from exc
    if statement.predicate_type != PREDICATE_TYPE:
        raise GrowthStatementError("predicateType", f"must be {PREDICATE_TYPE!r}")
    if len(statement.subjects) != 1 or not _SUBJECT.match(statement.subjects[0].name):
        raise GrowthStatementError("subject", "must name one govflow:system/<id>/v<number>")
    subject = statement.subjects[0]
    if set(subject.digest) != {"sha256"}:
        raise GrowthStatementError("subject[0].digest", "must be {sha256: <manifest digest>}")
    p = dict(statement.predicate)
    decision = _text(p, "decision")
    if decision not in DECISIONS:
        raise GrowthStatementError("predicate.decision", f"must be one of {', '.join(DECISIONS)}")
    signed_at = _text(p, "signed_at", max_length=64)
    try:
        datetime.fromisoformat(signed_at.replace("Z", "+00:00"))
    except ValueError as exc:
        raise GrowthStatementError("predicate.signed_at", "must be an ISO 8601 time") from exc
    claim = GrowthClaim(
        release=_positive(p, "release"), stage=_text(p, "stage", pattern=_STAGE, max_length=64),
        up_to=_positive(p, "up_to"), subject_name=subject.name,
        manifest_digest="sha256:" + subject.digest["sha256"], role=_text(p, "role", max_length=32),
        decision=decision, comment=_text(p, "comment", max_length=4000, allow_empty=True),
        nonce=_text(p, "nonce", pattern=_NONCE, max_length=128), signed_at=signed_at,
    )
    return statement.to_dict(), claim
