"""The signed-action kernel: the one path every signed governed act takes.

    envelope ──► parse ──► authorise ──► verify ──► record ──► response data
                 trust.     the act's     a usable    one transaction: key re-checked,
                 statements authorise     key of the  nonce spent, the area's service
                 (shape)    hook (404/403) submitter  (its rows + one audit event)

An act is one `SignedAct`: its predicate type (registered in `govflow.trust.statements`),
an ``authorise`` hook (the area's access functions: the caller may act on the object the
claim names) and a ``record`` service. API views and console actions call only
`act_perform`, so neither can forget a step, and a new signed act is one predicate plus
one `SignedAct`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from govflow.core.errors import Conflict, PermissionDenied
from govflow.keys.models import SigningKey, StatementNonce
from govflow.keys.verification import Verified, signature_verify, statement_read
from govflow.trust.statements import new_nonce, subject_name


@dataclass(frozen=True)
class SignedAct:
    name: str  # "<area>.<act>", e.g. "finding.file"
    predicate_type: str
    # (actor, claim, target) -> context for record; raises NotFound / PermissionDenied.
    authorise: Callable[[Any, Any, Any], Any]
    # (verified=, actor=, now=, target=, context=) -> what the response shows; runs inside
    # the kernel's transaction and writes exactly one audit event.
    record: Callable[..., Any]
    server_nonce: bool = False  # the nonce must be one the server issued to the signer


ACTS: dict[str, SignedAct] = {}


def signed_act(act: SignedAct) -> SignedAct:
    if act.name in ACTS:
        raise ValueError(f"signed act {act.name} is registered twice")
    ACTS[act.name] = act
    return act


def act_perform(act: SignedAct, *, envelope: Any, actor: Any, target: Any = None,
                now: datetime | None = None) -> Any:
    """Parse → authorise → verify → record. Nothing is written unless every step passes."""
    now = now or timezone.now()
    verified, context = act_verify(act, envelope=envelope, actor=actor, target=target, now=now)
    return act_record(act, verified, actor=actor, now=now, target=target, context=context)


def act_verify(act: SignedAct, *, envelope: Any, actor: Any, target: Any = None,
               now: datetime | None = None) -> tuple[Verified, Any]:
    """The steps that only read: parse, authorise, verify. Returns (verified, context)."""
    now = now or timezone.now()
    parsed = statement_read(envelope, act.predicate_type)
    context = act.authorise(actor, parsed.claim, target)
    return signature_verify(parsed, actor, now=now), context


def act_record(act: SignedAct, verified: Verified, *, actor: Any, now: datetime | None = None,
               target: Any = None, context: Any = None) -> Any:
    """The recording transaction: key re-check, nonce spent, then the area's service."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            nonce_spend(act, verified, actor=actor, now=now)
            return act.record(verified=verified, actor=actor, now=now, target=target,
                              context=context)
    except IntegrityError as exc:
        # The nonce was spent before (a resubmission), or a concurrent twin inserted it
        # first and committed: the unique constraint refused it; name it.
        if StatementNonce.objects.filter(nonce=verified.nonce, used_at__isnull=False).exists():
            raise replayed() from exc
        raise


def replayed() -> Conflict:
    return Conflict("replayed statement: its nonce was already used", detail={"rule": "replayed"})


def key_recheck(key: SigningKey, now: datetime) -> None:
    """Re-read the key inside the recording transaction: a revocation committed since the
    signature was verified wins. On PostgreSQL the row is read FOR SHARE, so a revocation
    running now waits for this transaction (or this one waits for it and sees it), while
    statements of the same signer do not queue behind each other."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(SigningKey._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT revoked_at, expires_at FROM {table} WHERE id = %s FOR SHARE",
                           [key.pk])
            revoked_at, expires_at = cursor.fetchone()
    else:
        revoked_at, expires_at = SigningKey.objects.values_list(
            "revoked_at", "expires_at").get(pk=key.pk)
    if revoked_at is not None or (expires_at is not None and now >= expires_at):
        raise Conflict(f"key {key.key_id} was revoked or expired just now; sign again",
                       detail={"rule": "key_revoked"})


def nonce_spend(act: SignedAct, verified: Verified, *, actor: Any, now: datetime) -> None:
    """Re-check the key and spend the nonce, first thing in the recording transaction
    (so a resubmitted envelope is named for what it is before any check of state)."""
    nonce = verified.nonce
    if not act.server_nonce:
        if connection.vendor == "postgresql":
            _spend_with_key_share(act, verified, actor=actor, now=now)
            return
        key_recheck(verified.key, now)
        StatementNonce.objects.create(nonce=nonce, predicate_type=act.predicate_type,
                                      user=actor, used_at=now)
        return
    key_recheck(verified.key, now)
    row = _check_issued(StatementNonce.objects.select_for_update().filter(nonce=nonce).first(),
                        user=actor, predicate_type=act.predicate_type, now=now)
    row.used_at = now
    row.save(update_fields=["used_at"])


def _spend_with_key_share(act: SignedAct, verified: Verified, *, actor: Any, now: datetime) -> None:
    # One round trip on the hot path: the nonce row is inserted only if the key is still
    # usable, and the key row is read FOR SHARE (as key_recheck does). No row inserted:
    # the key was revoked or expired since the signature was checked. A unique violation:
    # the nonce was spent (act_record names it).
    nonces = connection.ops.quote_name(StatementNonce._meta.db_table)
    keys = connection.ops.quote_name(SigningKey._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {nonces} (nonce, predicate_type, user_id, used_at) "
            f"SELECT %s, %s, %s, %s FROM {keys} k WHERE k.id = %s AND k.revoked_at IS NULL "
            "AND (k.expires_at IS NULL OR k.expires_at > %s) FOR SHARE",
            [verified.nonce, act.predicate_type, actor.pk, now, verified.key.pk, now])
        inserted = cursor.rowcount
    if not inserted:
        raise Conflict(f"key {verified.key.key_id} was revoked or expired just now; sign "
                       "again", detail={"rule": "key_revoked"})


def _check_issued(row: StatementNonce | None, *, user: Any, predicate_type: str,
                  now: datetime) -> StatementNonce:
    if row is None or row.issued_at is None or row.predicate_type != predicate_type:
        raise Conflict("this statement's nonce was not issued by the server: fetch one "
                       "(GET …/signoff-nonce or …/signoff-payload) and sign again",
                       detail={"rule": "nonce_unknown"})
    if row.user_id != user.pk:
        raise PermissionDenied("this nonce was issued to someone else: fetch your own",
                               detail={"rule": "nonce_foreign"})
    if row.used_at is not None:
        raise replayed()
    if row.expires_at is not None and now >= row.expires_at:
        raise Conflict(f"this nonce expired at {row.expires_at.isoformat()}: fetch a new one",
                       detail={"rule": "nonce_expired"})
    return row


def nonce_held(*, nonce: str, user: Any, predicate_type: str,
               now: datetime | None = None) -> StatementNonce:
    """The issued nonce ``user`` holds and may still sign with (reads only)."""
    row = StatementNonce.objects.filter(nonce=nonce).first()
    return _check_issued(row, user=user, predicate_type=predicate_type,
                         now=now or timezone.now())


def nonce_issue(*, user: Any, predicate_type: str, now: datetime | None = None) -> StatementNonce:
    """A fresh single-use nonce for ``user`` to sign a statement of ``predicate_type``.
    Not an audited change: an unused nonce grants nothing and expires."""
    now = now or timezone.now()
    return StatementNonce.objects.create(
        nonce=new_nonce(), predicate_type=predicate_type, user=user, issued_at=now,
        expires_at=now + timedelta(seconds=settings.GOVFLOW_SIGNOFF_NONCE_TTL_SECONDS),
    )


def release_subject(release: Any) -> tuple[str, str]:
    """(subject name, manifest digest) naming the release's system version."""
    version = release.system_version
    return subject_name(version.system_id, version.number), version.manifest_digest


def release_json(release: Any) -> dict[str, Any]:
    """The release as the statement builders take it (the shape GET /api/releases/{id}
    returns: id, system, system_version_number, manifest_digest)."""
    version = release.system_version
    return {"id": release.pk, "system": version.system_id,
            "system_version_number": version.number, "manifest_digest": version.manifest_digest}


def subject_check(verified: Verified, subject: tuple[str, str], release_id: int, *,
                  rule: str = "wrong_subject") -> None:
    """The statement must be about the release's own system version (``subject``)."""
    claimed = (verified.parsed.subject_name, verified.parsed.subject_digest)
    if claimed != subject:
        raise Conflict(
            f"the statement is about {claimed[0]} ({claimed[1]}), but release {release_id} "
            f"is {subject[0]} ({subject[1]})", detail={"rule": rule})


def signed_fields(verified: Verified | None) -> dict[str, Any]:
    """What every audit event of a signed act carries, so the offline verifier can check
    the signature against the signer's logged key: nothing for an unsigned act."""
    if verified is None:
        return {}
    return {"key_id": verified.key.key_id, "nonce": verified.nonce,
            "envelope": verified.envelope, "statement": verified.statement}
