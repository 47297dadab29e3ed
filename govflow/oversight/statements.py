"""The regulator's signed statements: in-toto Statement v1 in DSSE envelopes, like
sign-offs and certificates.

Standard library and `govflow.trust` only, so `python -m govflow.client sign` and the
browser (which signs the exact payload bytes the server prepared) produce envelopes
the server parses with this same code.

- regulatory hold (place or lift)::

    subject: govflow:system/<id>/v<n>, digest: the release's manifest digest
    predicate: {action: place|lift, release, hold (lift only), reason, nonce, signed_at}

- sanction on a lab (impose or lift)::

    subject: govflow:organization/<lab slug>, digest sha256(<slug>)
    predicate: {action: impose|lift, lab, sanction (lift only), stage,
                min_training_compute_flop, until, reason, nonce, signed_at}

`signed_at` is the signer's claim, recorded and never trusted.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from govflow.trust.intoto import PAYLOAD_TYPE, Statement, StatementError, Subject

__all__ = ["HOLD_PREDICATE", "PAYLOAD_TYPE", "SANCTION_PREDICATE", "HoldClaim",
           "OversightStatementError", "SanctionClaim", "build_hold", "build_sanction",
           "parse_hold", "parse_sanction"]

HOLD_PREDICATE = "https://govflow.dev/attestations/regulatory-hold/v1"
SANCTION_PREDICATE = "https://govflow.dev/attestations/sanction/v1"
HOLD_ACTIONS = ("place", "lift")
SANCTION_ACTIONS = ("impose", "lift")
MAX_REASON = 4000
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")
_STAGE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_SYSTEM = re.compile(r"^govflow:system/(\d+)/v(\d+)$")


class OversightStatementError(ValueError):
    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class HoldClaim:
    action: str
    release: int
    hold: int | None
    reason: str
    nonce: str
    signed_at: str
    subject_name: str
    manifest_digest: str


@dataclass(frozen=True)
class SanctionClaim:
    action: str
    lab: str
    sanction: int | None
    stage: str | None
    min_training_compute_flop: float | None
    until: datetime | None
    reason: str
    nonce: str
    signed_at: str


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def _system_subject(system_id: int, number: int, manifest_digest: str) -> Subject:
    return Subject(f"govflow:system/{system_id}/v{number}",
                   {"sha256": manifest_digest.removeprefix("sha256:")})


def _lab_subject(slug: str) -> Subject:
    return Subject(f"govflow:organization/{slug}",
                   {"sha256": hashlib.sha256(slug.encode("utf-8")).hexdigest()})


def build_hold(*, action: str, release: int, system_id: int, version_number: int,
               manifest_digest: str, reason: str, hold: int | None = None,
               nonce: str | None = None, signed_at: str | None = None) -> dict[str, Any]:
    predicate = {"action": action, "release": release, "hold": hold, "reason": reason,
                 "nonce": nonce or new_nonce(), "signed_at": signed_at}
    subject = _system_subject(system_id, version_number, manifest_digest)
    return Statement((subject,), HOLD_PREDICATE, predicate).to_dict()


def build_sanction(*, action: str, lab: str, reason: str, stage: str | None = None,
                   min_training_compute_flop: float | None = None, until: str | None = None,
                   sanction: int | None = None, nonce: str | None = None,
                   signed_at: str | None = None) -> dict[str, Any]:
    predicate = {"action": action, "lab": lab, "sanction": sanction, "stage": stage,
                 "min_training_compute_flop": min_training_compute_flop, "until": until,
                 "reason": reason, "nonce": nonce or new_nonce(), "signed_at": signed_at}
    return Statement((_lab_subject(lab),), SANCTION_PREDICATE, predicate).to_dict()


# --- parsing (the server) ----------------------------------------------------------------


def _statement(payload: bytes, predicate_type: str) -> tuple[Statement, dict[str, Any]]:
    try:
        statement = Statement.parse(payload)
    except StatementError as exc:
        raise OversightStatementError("statement", str(exc)) from exc
    if statement.predicate_type != predicate_type:
        raise OversightStatementError(
            "predicateType", f"must be {predicate_type!r}, got {statement.predicate_type!r}")
    if len(statement.subjects) != 1:
        raise OversightStatementError("subject", "name exactly one subject")
    return statement, dict(statement.predicate)


def _text(p: dict, key: str, *, max_length: int, pattern: re.Pattern | None = None,
          allow_empty: bool = False) -> str:
    value = p.get(key)
    if not isinstance(value, str) or (not value.strip() and not allow_empty):
        raise OversightStatementError(f"predicate.{key}", f"must be a non-empty string, "
                                                          f"got {value!r}")
    if len(value) > max_length:
        raise OversightStatementError(f"predicate.{key}", f"at most {max_length} characters")
    if pattern is not None and not pattern.match(value):
        raise OversightStatementError(f"predicate.{key}", f"{value!r} is not well formed")
    return value


def _id(p: dict, key: str, *, required: bool) -> int | None:
    value = p.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise OversightStatementError(f"predicate.{key}", f"must be a positive id, got {value!r}")
    return value


def _time(p: dict, key: str) -> datetime:
    raw = _text(p, key, max_length=64)
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise OversightStatementError(f"predicate.{key}", "must be an ISO 8601 time") from exc
    if moment.tzinfo is None:
        raise OversightStatementError(f"predicate.{key}", "must carry a time zone (e.g. Z)")
    return moment


def _common(p: dict, actions: tuple[str, ...]) -> tuple[str, str, str, str]:
    action = _text(p, "action", max_length=16)
    if action not in actions:
        raise OversightStatementError("predicate.action", f"must be one of {', '.join(actions)}")
    reason = _text(p, "reason", max_length=MAX_REASON)
    nonce = _text(p, "nonce", max_length=128, pattern=_NONCE)
    _time(p, "signed_at")
    return action, reason, nonce, p["signed_at"]


def parse_hold(payload: bytes) -> tuple[dict[str, Any], HoldClaim]:
    statement, p = _statement(payload, HOLD_PREDICATE)
    action, reason, nonce, signed_at = _common(p, HOLD_ACTIONS)
    subject = statement.subjects[0]
    if not _SYSTEM.match(subject.name) or set(subject.digest) != {"sha256"}:
        raise OversightStatementError("subject[0]", "must be govflow:system/<id>/v<n> with "
                                                    "its sha256 manifest digest")
    claim = HoldClaim(action=action, release=_id(p, "release", required=True),
                      hold=_id(p, "hold", required=action == "lift"), reason=reason,
                      nonce=nonce, signed_at=signed_at, subject_name=subject.name,
                      manifest_digest="sha256:" + subject.digest["sha256"])
    return statement.to_dict(), claim


def parse_sanction(payload: bytes) -> tuple[dict[str, Any], SanctionClaim]:
    statement, p = _statement(payload, SANCTION_PREDICATE)
    action, reason, nonce, signed_at = _common(p, SANCTION_ACTIONS)
    lab = _text(p, "lab", max_length=80, pattern=_SLUG)
    if statement.subjects[0].to_dict() != _lab_subject(lab).to_dict():
        raise OversightStatementError("subject[0]", f"must name govflow:organization/{lab}")
    stage = compute = until = None
    if action == "impose":
        stage = _text(p, "stage", max_length=63, pattern=_STAGE)
        compute = p.get("min_training_compute_flop")
        if isinstance(compute, bool) or not isinstance(compute, (int, float)) or compute < 0:
            raise OversightStatementError("predicate.min_training_compute_flop",
                                          "must be a number of FLOP, at least 0")
        compute = float(compute)
        until = _time(p, "until")
    claim = SanctionClaim(action=action, lab=lab,
                          sanction=_id(p, "sanction", required=action == "lift"),
                          stage=stage, min_training_compute_flop=compute, until=until,
                          reason=reason, nonce=nonce, signed_at=signed_at)
    return statement.to_dict(), claim
