"""Verifying the signed statements of auditing: a usable key of the submitter (the
sign-offs' rules, `govflow.keys.verification`), then the statement's shape."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from govflow.auditing.statements import PAYLOAD_TYPE, AuditStatementError
from govflow.core.errors import Conflict, ValidationFailed
from govflow.keys.models import SigningKey
from govflow.keys.verification import verify_user_envelope


@dataclass(frozen=True)
class Verified:
    envelope: dict[str, Any]  # the DSSE fields only, as submitted
    statement: dict[str, Any]
    claim: Any
    key: SigningKey


def verify_signed(*, envelope: Any, actor, now: datetime,
                  parse: Callable[[bytes], tuple[dict[str, Any], Any]]) -> Verified:
    """Check the signature and parse the statement. Reads only; raises a 4xx domain
    error naming the rule (bad_signature, foreign_key, key_revoked, …) or the field."""
    verified = verify_user_envelope(envelope, actor, now=now, payload_type=PAYLOAD_TYPE)
    try:
        statement, claim = parse(verified.payload)
    except AuditStatementError as exc:
        raise ValidationFailed(
            f"not a valid statement: {exc}",
            detail={"fields": [{"path": f"envelope.payload: {exc.path}", "message": exc.message}]},
        ) from exc
    # Only what DSSE defines is kept: unknown envelope fields carry no meaning and must
    # not ride into the log.
    kept = {
        "payload": envelope["payload"],
        "payloadType": envelope["payloadType"],
        "signatures": [{"keyid": s.get("keyid", ""), "sig": s["sig"]}
                       for s in envelope["signatures"]],
    }
    return Verified(envelope=kept, statement=statement, claim=claim, key=verified.key)


def recheck_key(key: SigningKey, now: datetime) -> SigningKey:
    """Re-read the key inside the recording transaction: a revocation committed since the
    signature was verified wins (the re-read is the point the check takes effect)."""
    revoked_at, expires_at = SigningKey.objects.values_list(
        "revoked_at", "expires_at").get(pk=key.pk)
    if revoked_at is not None or (expires_at is not None and now >= expires_at):
        raise Conflict(f"key {key.key_id} was revoked or expired just now; sign again",
                       detail={"rule": "key_revoked"})
    return key


def subject_of(release) -> tuple[str, str]:
    """(subject name, manifest digest) naming the release's system version."""
    version = release.system_version
    return f"govflow:system/{version.system_id}/v{version.number}", version.manifest_digest


def check_subject(claim, subject: tuple[str, str], release_id: int) -> None:
    """The statement must be about the release's own system version."""
    if (claim.subject_name, claim.manifest_digest) != subject:
        raise Conflict(
            f"the statement is about {claim.subject_name} ({claim.manifest_digest}), but "
            f"release {release_id} is {subject[0]} ({subject[1]})",
            detail={"rule": "wrong_subject"},
        )


def replayed() -> Conflict:
    return Conflict("replayed statement: its nonce was already used", detail={"rule": "replayed"})


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None
