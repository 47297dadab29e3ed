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

from django.db import IntegrityError, transaction

from govflow.audit import log
from govflow.audit.logkey import log_origin
from govflow.audit.models import AuditEvent, Checkpoint, Cosignature, ReceiptKey

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
    receipt: dict[str, Any] = {
        "format": RECEIPT_FORMAT,
        "log": log_origin(),
        "event": event.pk,
        "uuid": str(event.uuid),
        "event_type": event.event_type,
        "leaf_hash": event.leaf_hash,
        "index": leaf.index if leaf is not None else None,
        "checkpoint": None,
        "inclusion": None,
        "complete_at": f"/api/log/events/{event.pk}/receipt",
    }
    if leaf is None:
        return receipt
    checkpoint, witnessed = _checkpoint_for(leaf.index)
    if checkpoint is None:
        return receipt
    receipt["checkpoint"] = {
        "size": checkpoint.size,
        "note": checkpoint.note,
        "cosignatures": [f"{c.line}\n" for c in Cosignature.objects.filter(checkpoint=checkpoint)],
        "witnessed": witnessed,
    }
    receipt["inclusion"] = [log.b64(h) for h in log.inclusion_proof(leaf.index, checkpoint.size)]
    return receipt


def attach_recorded(response) -> None:
    """Attach the receipt of what this request has recorded so far to ``response`` now.
    core.idempotency calls it before storing the bytes a retry will be answered with, so
    the first answer and every replay carry the same receipt, byte for byte."""
    recorded = list(_recorded.get() or [])
    if recorded and 200 <= response.status_code < 300:
        ReceiptMiddleware._attach(response, recorded)


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
        if not 200 <= response.status_code < 300:
            return response
        recorded = self._remember_or_recall(request, response, recorded)
        if recorded:
            self._attach(response, recorded)
        return response

    @staticmethod
    def _remember_or_recall(request, response, recorded: list[int]) -> list[int]:
        # A replayed answer (core.idempotency) recorded nothing this time; its receipt is
        # the first answer's, and a client retrying after a lost response needs it most.
        key = request.headers.get("Idempotency-Key")
        user = getattr(request, "user", None)
        if not key or user is None or not user.is_authenticated or len(key) > 255:
            return recorded
        if response.get("Idempotent-Replayed") == "true":
            remembered = ReceiptKey.objects.filter(user=user, key=key).first()
            return list(remembered.events) if remembered is not None else recorded
        if recorded:
            try:
                with transaction.atomic():
                    ReceiptKey.objects.get_or_create(user=user, key=key,
                                                     defaults={"events": recorded})
            except IntegrityError:
                pass  # a parallel retry remembered the same key first
        return recorded

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
        # Events of a transaction that rolled back were never committed: skip them.
        events = AuditEvent.objects.filter(pk__in=recorded).select_related("leaf").order_by("id")
        committed = list(events)
        if not committed:
            return
        body["receipt"] = receipt_for(committed[-1])
        if len(committed) > 1:
            body["receipts"] = [receipt_for(e) for e in committed]
        # Written as DRF's JSONRenderer writes (compact, UTF-8), so a response reads the same
        # with or without its receipt.
        response.content = json.dumps(body, ensure_ascii=False,
                                      separators=(",", ":")).encode("utf-8")
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
