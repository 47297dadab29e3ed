"""The Merkle tree over the audit log: sequencing, checkpoints and proofs.

`audit_append` only inserts an event row, so writers never wait on each other or on the
sequencer. The sequencer (`log_integrate`) gives committed events their leaf index in
batches, under the single `LogState` row lock, and stores the perfect-subtree hashes that make every
proof an O(log n) lookup (one query). Checkpoints sign (size, root) in the C2SP
tlog-checkpoint format; a checkpoint's size is unique, so the log cannot fork.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterable
from hashlib import sha256

from django.db import transaction

from govflow.audit.events import EventType
from govflow.audit.logkey import log_origin, log_signing_key
from govflow.audit.models import (
    AuditEvent,
    Checkpoint,
    LogLeaf,
    LogNode,
    LogState,
    QuarantinedEvent,
    ReleaseHead,
    SequencingAlarm,
    node_key,
)
from govflow.audit.pending import Window
from govflow.trust import merkle, release_chain
from govflow.trust.note import Checkpoint as CheckpointBody
from govflow.trust.note import sign_note

_PLACEHOLDER = b"\0" * 32
logger = logging.getLogger(__name__)


class NodeStore:
    """Perfect-node lookups against LogNode, fetched in one query per batch of needs."""

    def __init__(self) -> None:
        self.cache: dict[tuple[int, int], bytes] = {}

    def prefetch(self, coords: Iterable[tuple[int, int]]) -> None:
        missing = {c for c in coords if c not in self.cache}
        if not missing:
            return
        keys = {node_key(level, index): (level, index) for level, index in missing}
        for key, value in LogNode.objects.filter(key__in=list(keys)).values_list("key", "hash"):
            self.cache[keys[key]] = bytes(value)
        absent = missing - set(self.cache)
        if absent:
            raise LookupError(f"log nodes missing from the store: {sorted(absent)[:5]}")

    def __call__(self, level: int, index: int) -> bytes:
        if (level, index) not in self.cache:
            self.prefetch([(level, index)])
        return self.cache[(level, index)]

    def run(self, compute, *args):
        """Run a merkle function twice: once to learn which nodes it reads (their
        coordinates do not depend on hash values), then for real after one fetch."""
        needed: list[tuple[int, int]] = []

        def record(level: int, index: int) -> bytes:
            needed.append((level, index))
            return self.cache.get((level, index), _PLACEHOLDER)

        compute(*args, record)
        self.prefetch(needed)
        return compute(*args, self)


def _lock_state() -> LogState:
    LogState.objects.get_or_create(pk=1)
    return LogState.objects.select_for_update().get(pk=1)


def _refusal(event_id, event_uuid, event_type, release_id, canonical, stored_hex, leaf):
    """Why an unsequenced row must not enter the tree, or None if it may."""
    if leaf.hex() != stored_hex:
        return (f"stored leaf_hash {stored_hex[:16]}… is not the hash of its canonical bytes "
                f"({leaf.hex()[:16]}…)")
    try:
        body = json.loads(canonical)
    except ValueError:
        return "its canonical bytes are not JSON"
    if not isinstance(body, dict):
        return "its canonical bytes are not a JSON object"
    # The columns are what selectors and per-release exports filter on: a row whose
    # columns say one thing and whose hashed bytes another would be exported wrongly.
    for name, column, logged in (
        ("uuid", str(event_uuid), body.get("uuid")),
        ("type", event_type, body.get("type")),
        ("release", release_id, body.get("release")),
    ):
        if column != logged:
            return f"column {name}={column!r} but the canonical bytes say {logged!r}"
    return None


def _raise_alarm(event_id: int, reason: str) -> None:
    """Record the refusal once and tell every regulator. Runs in the sequencer's
    transaction, which commits what was integrated before the refused row."""
    from govflow.monitoring.services.notifications import notify, regulators

    alarm, created = SequencingAlarm.objects.get_or_create(
        event_id=event_id, defaults={"reason": reason}
    )
    if not created:
        return
    logger.error("audit log sequencing stopped at event %s: %s", event_id, reason)
    notify(
        organizations=regulators(), release=None, kind="log_sequencing_alarm",
        subject=f"Audit log sequencing stopped at event {event_id}",
        body={"event": event_id, "reason": reason, "alarm": alarm.pk},
    )


def open_alarm() -> SequencingAlarm | None:
    """The alarm that stops sequencing now, if any: the first refused row not quarantined."""
    return (SequencingAlarm.objects.filter(quarantine__isnull=True)
            .order_by("event_id").first())


@transaction.atomic
def log_integrate(*, batch_size: int = 5000, only: int | None = None) -> int:
    """Give leaf indexes to committed events that have none. Returns the new tree size.

    Each leaf hash is recomputed here from the row's canonical bytes: the stored
    `leaf_hash` is the writer's claim, and a row inserted past `audit_append` (the app
    role may INSERT) must not get its claim signed. The first row that disagrees stops
    sequencing with an alarm; rows before it are integrated, none after, until it is
    quarantined (govflow.audit.quarantine). ``only`` integrates that one event (the
    release-heads event a checkpoint ends with).

    Writers never wait on this: they take no lock the sequencer holds. Only events above
    the floor are looked at (govflow.audit.pending), so a run costs what it integrates,
    not the size of the log.
    """
    state = _lock_state()
    window = Window.open(state)
    quarantined = set(QuarantinedEvent.objects.values_list("event_id", flat=True))
    store = NodeStore()
    size = state.size
    heads = HeadCache()
    stopped_at: int | None = None
    last_seen: int | None = None
    while stopped_at is None:
        pending_qs = window.pending()
        if only is not None:
            pending_qs = pending_qs.filter(pk=only)
        elif last_seen is not None:
            pending_qs = pending_qs.filter(pk__gt=last_seen)
        pending = list(
            pending_qs.order_by("id").values_list(
                "id", "uuid", "event_type", "release_id", "canonical", "leaf_hash"
            )[:batch_size]
        )
        if not pending:
            break
        leaves, nodes = [], []
        for event_id, event_uuid, event_type, release_id, canonical, stored_hex in pending:
            last_seen = event_id
            if event_id in quarantined:
                continue
            leaf = sha256(b"\x00" + canonical.encode("utf-8")).digest()
            reason = _refusal(event_id, event_uuid, event_type, release_id, canonical,
                              stored_hex, leaf)
            if reason is not None:
                _raise_alarm(event_id, reason)
                stopped_at = event_id
                break
            # The nodes this leaf completes need their left siblings, which are either
            # stored already or were completed earlier in this batch (in the cache).
            needed = []
            i, level = size, 0
            while i & 1:
                needed.append((level, i - 1))
                i >>= 1
                level += 1
            store.prefetch(needed)
            for level, index, digest in merkle.perfect_nodes_completed(size, leaf, store):
                store.cache[(level, index)] = digest
                nodes.append(LogNode(key=node_key(level, index), hash=digest))
            leaves.append(LogLeaf(index=size, event_id=event_id))
            if release_id is not None:
                heads.fold(release_id, leaf)
            size += 1
        LogLeaf.objects.bulk_create(leaves)
        LogNode.objects.bulk_create(nodes)
        if only is not None:
            break
    heads.save()
    fields = ["size"]
    state.size = size
    if only is None:
        window.close(state, last_seen=last_seen, stopped_at=stopped_at)
        fields += ["floor_event", "floor_size", "mark_event", "mark_transactions"]
    state.save(update_fields=fields)
    return size


class HeadCache:
    """The per-release chains the sequencer extends, loaded and saved once per run."""

    def __init__(self) -> None:
        self.rows: dict[int, ReleaseHead] = {}
        self.changed: set[int] = set()

    def fold(self, release_id: int, leaf: bytes) -> None:
        row = self.rows.get(release_id)
        if row is None:
            row = ReleaseHead.objects.filter(pk=release_id).first() or ReleaseHead(
                release_id=release_id, count=0, head=release_chain.GENESIS
            )
            self.rows[release_id] = row
        row.head = release_chain.chain_step(bytes(row.head), leaf)
        row.count += 1
        self.changed.add(release_id)

    def save(self) -> None:
        if not self.changed:
            return
        ReleaseHead.objects.bulk_create(
            [self.rows[r] for r in sorted(self.changed)],
            update_conflicts=True, unique_fields=["release_id"], update_fields=["count", "head"],
        )


def log_root(size: int) -> bytes:
    return NodeStore().run(merkle.tree_root, size)


def _ends_with_heads(size: int) -> bool:
    return LogLeaf.objects.filter(
        index=size - 1, event__event_type=release_chain.HEADS_EVENT
    ).exists()


def _append_heads(size: int) -> AuditEvent:
    """Log every release's (count, head) over the first ``size`` leaves, naming the
    previous heads event so that a bundle cannot leave one out unnoticed."""
    from govflow.audit.services import audit_append

    previous = (
        LogLeaf.objects.filter(index__lt=size, event__event_type=release_chain.HEADS_EVENT)
        .order_by("-index").values_list("index", flat=True).first()
    )
    payload = {
        "size": size,
        "previous": None if previous is None else {
            "index": previous,
            "leaf_hash": bytes(LogNode.objects.get(key=node_key(0, previous)).hash).hex(),
        },
        "heads": [
            {"release": release_id, "count": count, "head": bytes(head).hex()}
            for release_id, count, head in ReleaseHead.objects.order_by("release_id")
            .values_list("release_id", "count", "head")
        ],
    }
    return audit_append(
        event_type=EventType.LOG_RELEASE_HEADS, actor=None, subject=_lock_state(),
        payload=payload,
    )


@transaction.atomic
def checkpoint_create() -> Checkpoint | None:
    """Integrate pending events and sign a checkpoint if the tree grew. Safe to run
    concurrently with itself: the state row lock serialises it and size is unique.

    Every checkpoint's last leaf is a release-heads event (trust.release_chain), so a
    signed checkpoint commits to how many events each release has and to their chain.
    """
    size = log_integrate()
    latest = Checkpoint.objects.order_by("-size").first()
    if size == 0:
        return latest
    if not _ends_with_heads(size):
        heads = _append_heads(size)
        size = log_integrate(only=heads.pk)
    if latest is not None and latest.size >= size:
        return latest
    root = log_root(size)
    body = CheckpointBody(origin=log_origin(), size=size, root_hash=root).to_body()
    note = sign_note(body, log_origin(), log_signing_key())
    return Checkpoint.objects.create(size=size, root_hash=root, note=note)


def inclusion_proof(index: int, tree_size: int) -> list[bytes]:
    return NodeStore().run(merkle.inclusion_proof, index, tree_size)


def consistency_proof(first: int, second: int) -> list[bytes]:
    return NodeStore().run(merkle.consistency_proof, first, second)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
