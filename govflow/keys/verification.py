"""Checking that a signed statement was signed by the person submitting it.

A signature counts only under one of the submitter's own registered keys that is
unrevoked and unexpired by the *server's* clock: a signer's claimed signing time is
theirs to state and is never trusted. Each refusal names the rule that failed. The
statement itself is read by `govflow.trust.statements` (shape only); this module maps
its `StatementError` to the API's errors, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection

from govflow.core.errors import DomainError, PermissionDenied, ValidationFailed
from govflow.core.rows import Columns
from govflow.keys.models import SigningKey
from govflow.trust import dsse
from govflow.trust.keys import parse_public_key
from govflow.trust.statements import Parsed, StatementError, read

# Rules that mean "this is not a well-formed statement": 400, naming the field.
_SHAPE_RULES = {"malformed_statement", "wrong_predicate_type", "wrong_subject",
                "invalid_field"}


@dataclass(frozen=True)
class Verified:
    """A statement whose signature verified under ``key``, a usable key of the signer."""

    parsed: Parsed
    key: SigningKey

    @property
    def claim(self) -> Any:
        return self.parsed.claim

    @property
    def envelope(self) -> dict[str, Any]:
        return self.parsed.envelope

    @property
    def statement(self) -> dict[str, Any]:
        return self.parsed.statement

    @property
    def nonce(self) -> str:
        return self.parsed.nonce


def refusal(exc: StatementError) -> DomainError:
    """The API error for a statement the trust layer refused."""
    if exc.rule in _SHAPE_RULES:
        path = f"envelope.payload: {exc.path}" if exc.path else "envelope.payload"
        return ValidationFailed(f"not a valid statement: {exc}", detail={
            "rule": exc.rule, "fields": [{"path": path, "message": exc.message}]})
    return ValidationFailed(str(exc), detail={"rule": exc.rule})


def statement_read(envelope: Any, predicate_type: str) -> Parsed:
    """Read (never trust) a statement of ``predicate_type``; a 400 naming the rule."""
    try:
        return read(envelope, predicate_type)
    except StatementError as exc:
        raise refusal(exc) from exc


def _refuse(cls: type[DomainError], rule: str, message: str) -> DomainError:
    return cls(message, detail={"rule": rule})


@cache
def _keys_query() -> tuple[str, Columns[SigningKey]]:
    columns = Columns(SigningKey, "k")
    table = connection.ops.quote_name(SigningKey._meta.db_table)
    return (f"SELECT {columns.sql} FROM {table} k WHERE k.user_id = %s "
            "ORDER BY k.created_at, k.id"), columns


def _keys_of(user: Any) -> list[SigningKey]:
    """Every key ``user`` registered, usable or not (a refusal says which it was): read
    once per signed act, by a hand-written query (`govflow.core.rows`)."""
    sql, columns = _keys_query()
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk])
        return [key for row in cursor.fetchall() if (key := columns.instance(row)) is not None]


def signature_verify(parsed: Parsed, user: Any, *, now: datetime) -> Verified:
    """The key of ``user`` under which the envelope verifies, usable at ``now``."""
    own = {k.key_id: k for k in _keys_of(user)}
    if not own:
        raise _refuse(PermissionDenied, "no_key",
                      "you have no registered signing key: register one (POST /api/keys)")
    usable = {key_id: k for key_id, k in own.items() if k.is_usable_at(now)}
    try:
        verified = _verify(parsed.envelope, usable)
    except dsse.EnvelopeError as exc:
        raise _failure(parsed, user, own, usable, exc) from exc
    return Verified(parsed=parsed, key=own[verified.keyid])


def _verify(envelope: Any, keys: dict[str, SigningKey]) -> dsse.VerifiedPayload:
    if not keys:
        raise dsse.EnvelopeError("no usable key")
    return dsse.verify_envelope(
        envelope, {key_id: parse_public_key(k.public_key) for key_id, k in keys.items()}
    )


def _failure(parsed: Parsed, user: Any, own: Any, usable: Any,
             exc: dsse.EnvelopeError) -> DomainError:
    """Why no usable key of the submitter verifies: revoked or expired key, altered
    statement, someone else's key, or a key nobody registered."""
    envelope, hints = parsed.envelope, parsed.hints
    for key_id, key in own.items():
        if key_id in usable:
            continue
        try:
            _verify(envelope, {key_id: key})
        except dsse.EnvelopeError:
            continue
        if key.revoked_at is not None:
            return _refuse(PermissionDenied, "key_revoked",
                           f"signed with key {key.key_id}, which was revoked at "
                           f"{key.revoked_at.isoformat()}: sign again with a current key")
        return _refuse(PermissionDenied, "key_expired",
                       f"signed with key {key.key_id}, which expired at "
                       f"{key.expires_at.isoformat()}: register a new key")
    if any(h in usable for h in hints):
        return _refuse(ValidationFailed, "bad_signature",
                       f"the signature does not verify under your key: {exc} (was the statement "
                       "changed after signing?)")
    foreign = SigningKey.objects.filter(key_id__in=list(hints)).exclude(user=user)
    for key in foreign:
        try:
            _verify(envelope, {key.key_id: key})
        except dsse.EnvelopeError:
            continue
        return _refuse(PermissionDenied, "foreign_key",
                       f"signed with key {key.key_id}, which is registered to another person: "
                       "sign with your own key")
    return _refuse(PermissionDenied, "unregistered_key",
                   f"the envelope is not signed by any key registered to you ({exc})")
