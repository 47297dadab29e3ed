"""Is what the database shows the log that the checkpoints signed?

The offline verifier (`govflow.verify`) answers this for an exported bundle; the console
answers it for the events on a page, with the same primitives: the checkpoint note's
signature (`govflow.verify.log_checks.open_checkpoint`) and RFC 9162 Merkle hashing
(`govflow.trust.merkle`). Each event's leaf is recomputed from its stored canonical
bytes, never taken from the row.

Instead of one inclusion proof per event, the leaves of a page are checked together
(a multiproof): the tree's root is recomputed from those leaves plus the stored hashes
of the subtrees that hold none of them, and must equal the signed root. That is what
checking every inclusion proof proves, in a fraction of the hashing; when it fails, each
event is checked alone to name the bad ones. Results for a release are cached per
(checkpoint size, event count, newest event): a new checkpoint or event recomputes.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Max

from govflow.audit.log import NodeStore
from govflow.audit.logkey import log_origin, log_signing_key
from govflow.audit.models import AuditEvent, Checkpoint
from govflow.trust import merkle
from govflow.trust.note import make_verifier_key
from govflow.verify.log_checks import open_checkpoint
from govflow.verify.report import VerificationFailed

_PREFETCH_CHUNK = 5000


@dataclass(frozen=True)
class LogView:
    """The latest checkpoint, opened with the log's key."""

    size: int
    root: bytes | None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class TrailStatus:
    state: str  # verified | pending | failed | empty
    included: int = 0
    pending: int = 0
    message: str = ""


def verifier_key() -> str:
    """The log's public key as a signed-note verifier key, to pin with --log-key."""
    return make_verifier_key(log_origin(), log_signing_key().public_key())


def latest_checkpoint() -> LogView:
    checkpoint = Checkpoint.objects.order_by("-size").first()
    if checkpoint is None:
        return LogView(0, None)
    try:
        size, root = open_checkpoint(checkpoint.note, verifier_key(), log_origin())
    except VerificationFailed as exc:
        return LogView(checkpoint.size, None, str(exc))
    if size != checkpoint.size or root != bytes(checkpoint.root_hash):
        return LogView(checkpoint.size, None, "the checkpoint row differs from its signed note")
    return LogView(size, root)


def leaf_of(canonical: str) -> bytes:
    return hashlib.sha256(b"\x00" + canonical.encode("utf-8")).digest()


def _perfect_nodes(lo: int, hi: int, out: list[tuple[int, int]]) -> None:
    """The stored perfect nodes `merkle.subtree_hash(lo, hi, …)` reads, in its order."""
    while True:
        n = hi - lo
        if n & (n - 1) == 0 and lo % n == 0:
            level = n.bit_length() - 1
            out.append((level, lo >> level))
            return
        k = 1 << ((n - 1).bit_length() - 1)
        _perfect_nodes(lo, lo + k, out)
        lo += k


def _root_over(leaves: dict[int, bytes], size: int, node) -> bytes:
    """RFC 9162's MTH(D[size]) with the given leaves known and every subtree holding
    none of them read through ``node`` (stored perfect-subtree hashes)."""
    order = sorted(leaves)

    def walk(lo: int, hi: int, first: int, last: int) -> bytes:
        # order[first:last] are the known leaves inside [lo, hi)
        if first == last:
            return merkle.subtree_hash(lo, hi, node)
        if hi - lo == 1:
            return leaves[lo]
        k = 1 << ((hi - lo - 1).bit_length() - 1)
        split = bisect_left(order, lo + k, first, last)
        return merkle.node_hash(walk(lo, lo + k, first, split), walk(lo + k, hi, split, last))

    return walk(0, size, 0, len(order))


def _nodes_needed(indices: list[int], size: int) -> list[tuple[int, int]]:
    """The stored nodes `_root_over` reads for these leaf indices, found without hashing
    (their coordinates depend on the indices only), so that one query fetches them all."""
    order = sorted(indices)
    out: list[tuple[int, int]] = []

    def walk(lo: int, hi: int, first: int, last: int) -> None:
        if first == last:
            _perfect_nodes(lo, hi, out)
            return
        if hi - lo == 1:
            return
        k = 1 << ((hi - lo - 1).bit_length() - 1)
        split = bisect_left(order, lo + k, first, last)
        walk(lo, lo + k, first, split)
        walk(lo + k, hi, split, last)

    walk(0, size, 0, len(order))
    return out


def leaves_included(leaves: dict[int, bytes], log: LogView, store: NodeStore | None = None
                    ) -> bool:
    """Whether every (index → leaf hash) is in the tree the latest checkpoint signed."""
    if not leaves:
        return True
    if not log.ok or any(index >= log.size for index in leaves):
        return False
    store = store or NodeStore()
    unique = list(dict.fromkeys(_nodes_needed(list(leaves), log.size)))
    try:
        for start in range(0, len(unique), _PREFETCH_CHUNK):
            store.prefetch(unique[start:start + _PREFETCH_CHUNK])
    except LookupError:  # a stored subtree hash is missing: the tree cannot be rebuilt
        return False
    return _root_over(leaves, log.size, store) == log.root


def event_inclusion(rows: Iterable[tuple[int, int | None, str]], log: LogView
                    ) -> dict[int, str]:
    """(event id, leaf index or None, canonical) → included | pending | not_included."""
    status: dict[int, str] = {}
    leaves: dict[int, bytes] = {}
    ids: dict[int, int] = {}
    for event_id, index, canonical in rows:
        if index is None or index >= log.size or not log.ok:
            status[event_id] = "pending" if log.ok else "not_included"
            continue
        leaves[index] = leaf_of(canonical)
        ids[index] = event_id
    store = NodeStore()
    if leaves_included(leaves, log, store):
        status.update(dict.fromkeys(ids.values(), "included"))
        return status
    for index, leaf in leaves.items():  # name the bad ones
        ok = leaves_included({index: leaf}, log, store)
        status[ids[index]] = "included" if ok else "not_included"
    return status


def _cache_key(release_id: int, log: LogView, count: int, newest: int) -> str:
    return f"console:trail:v1:{release_id}:{log.size}:{count}:{newest}"


def release_trails(release_ids: list[int], log: LogView) -> dict[int, TrailStatus]:
    """Whether each release's events are all in the signed log. Three queries for a
    page of releases when nothing is cached, one when everything is."""
    shape = {
        row["release_id"]: (row["n"], row["newest"])
        for row in AuditEvent.objects.filter(release_id__in=release_ids)
        .values("release_id").annotate(n=Count("id"), newest=Max("id")).order_by()
    }
    out: dict[int, TrailStatus] = {}
    keys = {rid: _cache_key(rid, log, *shape[rid]) for rid in release_ids if rid in shape}
    cached = cache.get_many(list(keys.values())) if keys else {}
    missing = []
    for rid in release_ids:
        if rid not in shape:
            out[rid] = TrailStatus("empty", message="no events")
        elif keys[rid] in cached:
            out[rid] = cached[keys[rid]]
        else:
            missing.append(rid)
    if not missing:
        return out
    rows: dict[int, list[tuple[int, int | None, str]]] = {rid: [] for rid in missing}
    for event_id, rid, index, canonical in (
        AuditEvent.objects.filter(release_id__in=missing)
        .values_list("id", "release_id", "leaf__index", "canonical").order_by()
    ):
        rows[rid].append((event_id, index, canonical))
    flat = [row for rid in missing for row in rows[rid]]
    inclusion = event_inclusion(flat, log)
    fresh = {}
    for rid in missing:
        states = [inclusion[event_id] for event_id, _, _ in rows[rid]]
        bad, pending = states.count("not_included"), states.count("pending")
        included = states.count("included")
        if not log.ok:
            status = TrailStatus("failed", included, pending, f"checkpoint: {log.problem}")
        elif bad:
            status = TrailStatus("failed", included, pending,
                                 f"{bad} event(s) do not match the signed log")
        elif pending:
            status = TrailStatus("pending", included, pending,
                                 f"{pending} event(s) newer than checkpoint {log.size}")
        else:
            status = TrailStatus("verified", included, 0, f"all in checkpoint {log.size}")
        out[rid] = status
        fresh[keys[rid]] = status
    cache.set_many(fresh, timeout=3600)
    return out
