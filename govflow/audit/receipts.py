"""Receipts: what a submitter keeps to prove later that the log still holds their act.

Every API request that records an audit event (a signed statement, a decision, any
governed change) gets a ``receipt`` in its JSON response: the event's id and uuid, its
leaf hash and the log's origin. The event is sequenced into the Merkle tree shortly after
(the checkpoint task), so the leaf index and proof are not known yet; ``GET
/api/log/events/{id}/receipt`` completes the receipt with the leaf index, an inclusion
proof and the newest witnessed checkpoint that includes it (its note and cosignatures).

This is done once, here, rather than per view: ``audit_append`` notes each event it
writes in a context variable the middleware set up for the request, and the middleware
adds the receipt of the request's newest event to a successful JSON object response.
``python -m govflow.client`` stores receipts and ``client receipts verify`` checks them.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from django.db import connection

from govflow.audit import log
from govflow.audit.logkey import log_origin
from govflow.audit.models import AuditEvent, Checkpoint, Cosignature, LogLeaf, ReceiptKey

_recorded: ContextVar[list[int] | None] = ContextVar("govflow_recorded_events", default=None)
RECEIPT_FORMAT = "govflow-receipt/v1"
_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def note_recorded(event_id: int) -> None:
    """Called by audit_append: remember the event for the current request's receipt."""
    recorded = _recorded.get()
    if recorded is not None:
        recorded.append(event_id)


def _checkpoint_for(index: int) -> tuple[Checkpoint | None, bool]:
    """The newest witnessed checkpoint holding leaf ``index`` (else the newest at all)."""
    holding = Checkpoint.objects.filter(size__gt=index)
    witnessed = holding.filter(cosignatures__isnull=False).order_by("-size").first()
    if witnessed is not None:
        return witnessed, True
    return holding.order_by("-size").first(), False


def receipt_for(event: AuditEvent) -> dict[str, Any]:
    leaf = getattr(event, "leaf", None)
    return receipt_of(event_id=event.pk, uuid=event.uuid, event_type=event.event_type,
                      leaf_hash=event.leaf_hash, index=leaf.index if leaf is not None else None)


def receipt_of(*, event_id: int, uuid: Any, event_type: str, leaf_hash: str,
               index: int | None) -> dict[str, Any]:
    receipt: dict[str, Any] = {
        "format": RECEIPT_FORMAT,
        "log": log_origin(),
        "event": event_id,
        "uuid": str(UUID(str(uuid))),  # SQLite hands a raw row's uuid over as bare hex
        "event_type": event_type,
        "leaf_hash": leaf_hash,
        "index": index,
        "checkpoint": None,
        "inclusion": None,
        "complete_at": f"/api/log/events/{event_id}/receipt",
    }
    if index is None:
        return receipt
    checkpoint, witnessed = _checkpoint_for(index)
    if checkpoint is None:
        return receipt
    receipt["checkpoint"] = {
        "size": checkpoint.size,
        "note": checkpoint.note,
        "cosignatures": [f"{c.line}\n" for c in Cosignature.objects.filter(checkpoint=checkpoint)],
        "witnessed": witnessed,
    }
    receipt["inclusion"] = [log.b64(h) for h in log.inclusion_proof(index, checkpoint.size)]
    return receipt


def _receipts_of(recorded: list[int]) -> dict[str, Any]:
    """``receipt`` (and ``receipts`` when there are several) for the events a request
    recorded, or nothing. Events of a transaction (or savepoint) that rolled back were
    never committed, so they are read again: what is gone gets no receipt. Every write
    makes this read, so it is hand-written and reads only what a receipt shows
    (compiling the ORM query costs ten times more than running it)."""
    quote = connection.ops.quote_name
    index = quote(LogLeaf._meta.get_field("index").column)
    sql = (f"SELECT e.id, e.uuid, e.event_type, e.leaf_hash, l.{index} "
           f"FROM {quote(AuditEvent._meta.db_table)} e "
           f"LEFT JOIN {quote(LogLeaf._meta.db_table)} l ON l.event_id = e.id "
           f"WHERE e.id IN ({', '.join(['%s'] * len(recorded))}) ORDER BY e.id")
    with connection.cursor() as cursor:
        cursor.execute(sql, recorded)
        receipts = [receipt_of(event_id=event_id, uuid=uuid, event_type=event_type,
                               leaf_hash=leaf_hash, index=index)
                    for event_id, uuid, event_type, leaf_hash, index in cursor.fetchall()]
    if not receipts:
        return {}
    body: dict[str, Any] = {"receipt": receipts[-1]}
    if len(receipts) > 1:
        body["receipts"] = receipts
    return body


def attach_recorded(response) -> None:
    """Put the receipt of what this request has recorded so far into ``response``, a DRF
    response not yet rendered. core.idempotency calls it before it renders and stores
    the bytes a retry will be answered with, so the first answer and every replay carry
    the same receipt, byte for byte; the middleware then leaves the response alone."""
    response.govflow_receipted = True
    recorded = list(_recorded.get() or [])
    data = getattr(response, "data", None)
    if not recorded or not 200 <= response.status_code < 300 or not isinstance(data, dict):
        return
    if "receipt" not in data:
        data.update(_receipts_of(recorded))


class ReceiptMiddleware:
    """Adds ``receipt`` to successful JSON object responses of /api/ writes that recorded
    audit events (see the module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in _WRITE_METHODS or not request.path.startswith("/api/"):
            return self.get_response(request)
        token = _recorded.set([])
        try:
            response = self.get_response(request)
            recorded = list(_recorded.get() or [])
        finally:
            _recorded.reset(token)
        if getattr(response, "govflow_receipted", False) or not 200 <= response.status_code < 300:
            return response
        if response.get("Idempotent-Replayed") == "true":
            recorded = self._recall(request) or recorded
        if recorded:
            self._attach(response, recorded)
        return response

    @staticmethod
    def _recall(request) -> list[int]:
        # A replayed answer (core.idempotency) recorded nothing this time. Its stored
        # bytes carry the first answer's receipt; answers stored before they did had
        # their events remembered under the key, and are given that receipt here.
        key = request.headers.get("Idempotency-Key")
        user = getattr(request, "user", None)
        if not key or user is None or not user.is_authenticated or len(key) > 255:
            return []
        remembered = ReceiptKey.objects.filter(user=user, key=key).first()
        return list(remembered.events) if remembered is not None else []

    @staticmethod
    def _attach(response, recorded: list[int]) -> None:
        if not response.get("Content-Type", "").startswith("application/json"):
            return
        if getattr(response, "streaming", False):
            return
        try:
            body = json.loads(response.content)
        except ValueError:
            return
        if not isinstance(body, dict) or "receipt" in body:
            return
        receipts = _receipts_of(recorded)
        if not receipts:
            return
        body.update(receipts)
        # Written as DRF's JSONRenderer writes (compact, UTF-8), so a response reads the same
        # with or without its receipt.
        response.content = json.dumps(body, ensure_ascii=False,
                                      separators=(",", ":")).encode("utf-8")
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
