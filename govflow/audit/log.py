"""The Merkle tree over the audit log: sequencing, checkpoints and proofs.

`audit_append` only inserts an event row, so writers never wait on each other. The
sequencer (`log_integrate`) gives committed events their leaf index in batches, under
the single `LogState` row lock, and stores the perfect-subtree hashes that make every
proof an O(log n) lookup (one query). Checkpoints sign (size, root) in the C2SP
tlog-checkpoint format; a checkpoint's size is unique, so the log cannot fork.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable

from django.db import transaction

from govflow.audit.logkey import log_origin, log_signing_key
from govflow.audit.models import AuditEvent, Checkpoint, LogLeaf, LogNode, LogState, node_key
from govflow.trust import merkle
from govflow.trust.note import Checkpoint as CheckpointBody
from govflow.trust.note import sign_note

_PLACEHOLDER = b"\0" * 32


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


@transaction.atomic
def log_integrate(*, batch_size: int = 5000) -> int:
    """Give leaf indexes to committed events that have none. Returns the new tree size."""
    state = _lock_state()
    store = NodeStore()
    size = state.size
    while True:
        pending = list(
            AuditEvent.objects.filter(leaf__isnull=True)
            .order_by("id")
            .values_list("id", "leaf_hash")[:batch_size]
        )
        if not pending:
            break
        leaves, nodes = [], []
        for event_id, leaf_hex in pending:
            leaf = bytes.fromhex(leaf_hex)
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
            size += 1
        LogLeaf.objects.bulk_create(leaves)
        LogNode.objects.bulk_create(nodes)
    if size != state.size:
        state.size = size
        state.save(update_fields=["size"])
    return size


def log_root(size: int) -> bytes:
    return NodeStore().run(merkle.tree_root, size)


@transaction.atomic
def checkpoint_create() -> Checkpoint | None:
    """Integrate pending events and sign a checkpoint if the tree grew. Safe to run
    concurrently with itself: the state row lock serialises it and size is unique."""
    size = log_integrate()
    latest = Checkpoint.objects.order_by("-size").first()
    if size == 0 or (latest is not None and latest.size >= size):
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
