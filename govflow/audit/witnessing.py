"""Asking witnesses to cosign the log's checkpoints (C2SP tlog-witness, the log's side).

For each witness in ``GOVFLOW_WITNESSES`` the log sends ``old <size>`` (the size that
witness last cosigned, as our cosignature rows say), the consistency proof from there, and
the new checkpoint; a valid cosignature comes back and is stored. A 409 naming a size we
have a checkpoint for means our bookkeeping is behind (a lost response): we retry once
from that size. Anything else a witness refuses — a size we never published, a size past
ours, a fork at equal size, a proof it rejects — is what a rewritten or forked log looks
like from outside: it is logged as a ``witness.refused`` event and the regulator is told.
An unreachable witness is only logged to the console: the verifier's quorum is what makes
a missing cosignature matter.

The HTTP calls run outside any database transaction, so a slow witness holds no lock.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max

from govflow.audit import log
from govflow.audit.events import EventType
from govflow.audit.models import AuditEvent, Checkpoint, Cosignature
from govflow.audit.services import audit_append
from govflow.core.env import WitnessConfig
from govflow.trust.cosignature import parse_cosigner_vkey, verify_cosignatures
from govflow.trust.note import split_note

logger = logging.getLogger(__name__)
SIZE_CONTENT_TYPE = "text/x.tlog.size"


@dataclass(frozen=True)
class Outcome:
    witness: str
    result: str  # "cosigned", "refused" or "unreachable"
    detail: str = ""


@dataclass(frozen=True)
class _Reply:
    status: int
    content_type: str
    text: str


def _post(witness: WitnessConfig, body: bytes) -> _Reply:
    request = urllib.request.Request(
        f"{witness.url}/add-checkpoint", data=body, method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    timeout = settings.GOVFLOW_WITNESS_TIMEOUT_SECONDS
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return _Reply(response.status, response.headers.get("Content-Type", ""),
                          response.read(64 * 1024).decode("utf-8", "replace"))
    except urllib.error.HTTPError as exc:
        return _Reply(exc.code, exc.headers.get("Content-Type", ""),
                      exc.read(64 * 1024).decode("utf-8", "replace"))


def add_checkpoint_body(old: int, checkpoint: Checkpoint) -> bytes:
    proof = log.consistency_proof(old, checkpoint.size) if 0 < old < checkpoint.size else []
    lines = [f"old {old}", *(log.b64(h) for h in proof)]
    return ("\n".join(lines) + "\n\n" + checkpoint.note).encode("utf-8")


def _last_cosigned_size(witness: WitnessConfig, up_to: int) -> int:
    found = Cosignature.objects.filter(
        witness_key=witness.vkey, checkpoint__size__lte=up_to
    ).aggregate(size=Max("checkpoint__size"))["size"]
    return int(found or 0)


def _store(witness: WitnessConfig, checkpoint: Checkpoint, reply: _Reply) -> Outcome:
    body, _ = split_note(checkpoint.note)
    cosigner = parse_cosigner_vkey(witness.vkey)
    valid, problems = verify_cosignatures(body, reply.text.splitlines(), [cosigner])
    if not valid:
        return _refused(witness, checkpoint, reply,
                        "; ".join(problems) or "the reply holds no cosignature by its key")
    [cosignature] = valid
    try:
        with transaction.atomic():
            Cosignature.objects.create(
                checkpoint=checkpoint, witness=witness.name, witness_key=witness.vkey,
                timestamp=cosignature.timestamp, line=cosignature.line().rstrip("\n"),
            )
    except IntegrityError:
        pass  # another worker stored this witness's cosignature of the checkpoint first
    return Outcome(witness.name, "cosigned", f"size {checkpoint.size}")


def _refused(witness: WitnessConfig, checkpoint: Checkpoint, reply: _Reply,
             reason: str) -> Outcome:
    from govflow.monitoring.services.notifications import notify, regulators

    witness_size = None
    if reply.status == 409 and reply.content_type.startswith(SIZE_CONTENT_TYPE):
        witness_size = _size(reply.text)
    payload = {
        "witness": witness.name, "witness_key": witness.vkey, "url": witness.url,
        "status": reply.status, "witness_size": witness_size,
        "checkpoint_size": checkpoint.size, "reason": reason,
        "reply": reply.text[:500],
    }
    with transaction.atomic():
        # One event per new situation, not one per beat: while a fork persists, every
        # checkpoint would otherwise be refused (and logged, growing the log) again.
        last = (AuditEvent.objects.filter(event_type=EventType.WITNESS_REFUSED,
                                          payload__witness_key=witness.vkey)
                .order_by("-id").first())
        repeated = last is not None and (
            last.payload.get("status"), last.payload.get("witness_size")
        ) == (reply.status, witness_size) and not Cosignature.objects.filter(
            witness_key=witness.vkey, created_at__gt=last.created_at
        ).exists()
        if not repeated:
            audit_append(event_type=EventType.WITNESS_REFUSED, actor=None, subject=checkpoint,
                         payload=payload)
            notify(organizations=regulators(), release=None, kind="witness.refused",
                   subject=f"witness {witness.name} refused checkpoint {checkpoint.size}",
                   body=payload)
    logger.warning("witness %s refused checkpoint %s: %s %s", witness.name, checkpoint.size,
                   reply.status, reason)
    return Outcome(witness.name, "refused", f"{reply.status}: {reason}")


def _size(text: str) -> int | None:
    line = text.strip()
    return int(line) if line.isdigit() else None


def _ask(witness: WitnessConfig, checkpoint: Checkpoint) -> Outcome:
    old = _last_cosigned_size(witness, checkpoint.size)
    try:
        reply = _post(witness, add_checkpoint_body(old, checkpoint))
        if reply.status == 409 and reply.content_type.startswith(SIZE_CONTENT_TYPE):
            known = _size(reply.text)
            # The witness is at a size we published (a reply we never stored): retry from
            # there. Any other size is a history we did not publish, or a rollback.
            if known is not None and known != old and (
                known == 0 or (known < checkpoint.size
                               and Checkpoint.objects.filter(size=known).exists())
            ):
                if known == 0:
                    # It has forgotten everything it cosigned: its state was lost or reset.
                    logger.warning("witness %s reports no state for this log", witness.name)
                reply = _post(witness, add_checkpoint_body(known, checkpoint))
    except (OSError, ValueError) as exc:
        logger.warning("witness %s unreachable: %s", witness.name, exc)
        return Outcome(witness.name, "unreachable", str(exc))
    if reply.status == 200:
        return _store(witness, checkpoint, reply)
    reasons = {
        409: "the witness holds a different history of this log (forked or rewritten)",
        422: "the witness rejected the consistency proof (the log was rewritten)",
        403: "the witness does not accept the log's signature (log key changed?)",
        404: "the witness does not know this log",
    }
    return _refused(witness, checkpoint, reply, reasons.get(reply.status, "refused"))


def checkpoint_witness(*, checkpoint: Checkpoint) -> list[Outcome]:
    """Ask every configured witness to cosign ``checkpoint``; store what they return.
    Idempotent: a witness that already cosigned it is not asked again. Call it outside a
    transaction (the task and the export do): a slow witness must not hold row locks."""
    done = set(Cosignature.objects.filter(checkpoint=checkpoint)
               .values_list("witness_key", flat=True))
    return [
        Outcome(w.name, "cosigned", f"size {checkpoint.size}") if w.vkey in done
        else _ask(w, checkpoint)
        for w in settings.GOVFLOW_WITNESSES
    ]
