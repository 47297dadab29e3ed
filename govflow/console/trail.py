"""The audit-trail pages: events with their inclusion in the latest checkpoint, and the
checkpoint history with each checkpoint's signature and consistency checked."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator

from govflow.audit.events import EventType
from govflow.audit.log import NodeStore
from govflow.audit.logkey import log_origin, log_signing_key
from govflow.audit.models import Checkpoint
from govflow.audit.selectors import events_visible_to
from govflow.console.integrity import event_inclusion, latest_checkpoint, verifier_key
from govflow.releases.access import access_release
from govflow.trust import merkle
from govflow.trust.cosignature import parse_cosigner_vkey, verify_cosignatures
from govflow.trust.note import make_verifier_key, split_note
from govflow.verify.log_checks import open_checkpoint
from govflow.verify.report import VerificationFailed

EVENTS_PER_PAGE = 50
CHECKPOINTS_PER_PAGE = 50
_PLACEHOLDER = b"\0" * 32


def _leaf_index(event) -> int | None:
    leaf = getattr(event, "leaf", None)
    return leaf.index if leaf is not None else None


def checkpoint_witnesses(size: int) -> list[str]:
    """The configured witnesses whose stored cosignature of the checkpoint of ``size``
    verifies under their configured key. The rows alone prove nothing (the operator can
    write them), so each line is checked against the checkpoint's signed note."""
    checkpoint = (Checkpoint.objects.filter(size=size).prefetch_related("cosignatures")
                  .first())
    if checkpoint is None or not settings.GOVFLOW_WITNESSES:
        return []
    body, _ = split_note(checkpoint.note)
    cosigners = [parse_cosigner_vkey(w.vkey) for w in settings.GOVFLOW_WITNESSES]
    lines = [c.line for c in checkpoint.cosignatures.all()]
    valid, _problems = verify_cosignatures(body, lines, cosigners)
    return sorted({c.name for c in valid})


def trail_verdict(log, inclusion: dict[int, str], *, witnesses: list[str] | None = None
                  ) -> dict[str, Any]:
    """One sentence for the top of the trail: is what this page shows the log that the
    checkpoints signed? ``witnesses`` names those who cosigned the checkpoint (none until
    the log has witnesses); the sentence says so either way, so nobody reads a silence
    as a witness."""
    states = list(inclusion.values())
    bad, pending = states.count("not_included"), states.count("pending")
    if witnesses:
        witnessed = "witnessed by " + ", ".join(witnesses)
    else:
        witnessed = "not witnessed (no witness cosigns this log's checkpoints)"
    if not log.size:
        return {"tone": "warn", "text": "No checkpoint is signed yet: nothing on this page "
                                        "is proven to be in the log."}
    if not log.ok:
        return {"tone": "bad", "text": f"Not verified: the latest checkpoint (size "
                                       f"{log.size}) does not verify: {log.problem}"}
    if bad:
        return {"tone": "bad", "text": f"Not verified: {bad} event(s) on this page differ "
                                       f"from the log signed at checkpoint {log.size}."}
    text = (f"Verified up to checkpoint {log.size} (signed by the log key), {witnessed}: "
            f"every event on this page up to leaf {log.size - 1} is in the signed tree.")
    if pending:
        text += f" {pending} newer event(s) await the next checkpoint."
    return {"tone": "ok" if not pending else "warn", "text": text, "witnesses": witnesses or []}


def _cursor(raw: str | int | None) -> int | None:
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return None
    return value if value > 0 else None


def audit_trail(user, *, release_id: int | None = None, event_type: str = "",
                before: str | int | None = None) -> dict[str, Any]:
    """A page of events, newest first, paged by keyset (``before`` = an event id): the
    thousandth page costs what the first does, where OFFSET would sort and skip every
    event before it. The actor's name is read from the hashed bytes, so no join."""
    release = access_release(user, release_id) if release_id else None
    qs = events_visible_to(user)
    if release is not None:
        qs = qs.filter(release_id=release.pk)
    if event_type:
        qs = qs.filter(event_type=event_type)
    cursor = _cursor(before)
    if cursor is not None:
        qs = qs.filter(id__lt=cursor)
    events = list(qs.order_by("-id")[:EVENTS_PER_PAGE + 1])
    older = events[EVENTS_PER_PAGE - 1].pk if len(events) > EVENTS_PER_PAGE else None
    events = events[:EVENTS_PER_PAGE]
    log = latest_checkpoint()
    inclusion = event_inclusion([(e.pk, _leaf_index(e), e.canonical) for e in events], log)
    rows = []
    for event in events:
        # What is shown is what was hashed: the canonical bytes, not the payload column.
        body = json.loads(event.canonical)
        rows.append({"event": event, "index": _leaf_index(event), "body": body,
                     "payload": json.dumps(body.get("payload"), indent=1, sort_keys=True),
                     "inclusion": inclusion[event.pk]})
    return {"release": release, "rows": rows, "log": log, "older": older,
            "paged": cursor is not None,
            "verdict": trail_verdict(log, inclusion,
                                     witnesses=checkpoint_witnesses(log.size) if log.ok else []),
            "event_types": EventType.values, "event_type": event_type,
            "verifier_key": verifier_key()}


def checkpoint_history(*, page: str | int | None = 1) -> dict[str, Any]:
    page_obj = Paginator(Checkpoint.objects.order_by("-size"), CHECKPOINTS_PER_PAGE) \
        .get_page(page)
    checkpoints = list(page_obj.object_list)
    before = None
    if checkpoints:
        before = Checkpoint.objects.filter(size__lt=checkpoints[-1].size).order_by("-size") \
            .first()
    chain = [*checkpoints, *([before] if before else [])]
    key, origin = make_verifier_key(log_origin(), log_signing_key().public_key()), log_origin()
    signed: dict[int, bytes | None] = {}
    problems: dict[int, str] = {}
    for cp in chain:
        try:
            size, root = open_checkpoint(cp.note, key, origin)
            if size != cp.size or root != bytes(cp.root_hash):
                raise VerificationFailed("the row differs from its signed note")
            signed[cp.size] = root
        except VerificationFailed as exc:
            signed[cp.size] = None
            problems[cp.size] = str(exc)
    pairs = [(older.size, newer.size) for newer, older in zip(chain, chain[1:], strict=False)]
    consistent = _consistency(pairs, signed)
    rows = []
    for cp in checkpoints:
        older = next((a for a, b in pairs if b == cp.size), None)
        rows.append({"checkpoint": cp, "root": bytes(cp.root_hash).hex(),
                     "signature_ok": cp.size not in problems, "problem": problems.get(cp.size),
                     "previous": older,
                     "consistent": consistent.get((older, cp.size)) if older else None})
    return {"page": page_obj, "rows": rows, "verifier_key": key}


def _consistency(pairs: list[tuple[int, int]], roots: dict[int, bytes | None]
                 ) -> dict[tuple[int, int], bool]:
    """Check every (older, newer) pair with stored-node proofs fetched in one batch."""
    store = NodeStore()
    needed: list[tuple[int, int]] = []

    def record(level: int, index: int) -> bytes:
        needed.append((level, index))
        return _PLACEHOLDER

    for first, second in pairs:
        merkle.consistency_proof(first, second, record)
    try:
        store.prefetch(list(dict.fromkeys(needed)))
    except LookupError:
        return dict.fromkeys(pairs, False)
    out = {}
    for first, second in pairs:
        old_root, new_root = roots.get(first), roots.get(second)
        if old_root is None or new_root is None:
            out[(first, second)] = False
            continue
        proof = merkle.consistency_proof(first, second, store)
        out[(first, second)] = merkle.verify_consistency(first, second, proof, old_root,
                                                         new_root)
    return out
