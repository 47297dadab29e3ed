"""The offline-verification bundle: everything a regulator needs to check the log
without the database or the server.

Envelopes and public keys travel *inside* logged events (sign-off and key events
carry them in their payload), so they are covered by the same Merkle tree and
checkpoint signatures as every other decision. The bundle's `keys` and `envelopes`
sections are conveniences extracted from those events; the verifier re-derives them.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from govflow.audit import log
from govflow.audit.logkey import log_origin, log_verifier_key
from govflow.audit.models import AuditEvent, Checkpoint, LogNode, node_key
from govflow.audit.witnessing import checkpoint_witness
from govflow.core.times import rfc3339
from govflow.policy.models import PolicyVersion
from govflow.releases.models import Release

BUNDLE_FORMAT = "govflow-bundle/v1"
KEY_EVENT_PREFIX = "key."


def _leaf_hashes(indexes: list[int]) -> dict[int, str]:
    """The leaf hashes as the tree holds them (LogNode level 0), by index."""
    out: dict[int, str] = {}
    chunk = 5000
    for start in range(0, len(indexes), chunk):
        keys = [node_key(0, i) for i in indexes[start:start + chunk]]
        for key, value in LogNode.objects.filter(key__in=keys).values_list("key", "hash"):
            out[key] = bytes(value).hex()
    return out


def _events_in_scope(release: Release | None, size: int):
    qs = AuditEvent.objects.filter(leaf__index__lt=size).select_related("leaf")
    if release is None:
        return list(qs.order_by("leaf__index"))
    own = list(qs.filter(release_id=release.pk).order_by("leaf__index"))
    # Keys that signed anything in this release: include their key events too, so the
    # verifier can check each key was registered (and not revoked) when it signed.
    key_ids = {e.payload["key_id"] for e in own if e.payload.get("key_id")}
    key_events = [
        e for e in qs.filter(event_type__startswith=KEY_EVENT_PREFIX).order_by("leaf__index")
        if e.payload.get("key_id") in key_ids or e.payload.get("revoked_key_id") in key_ids
    ]
    policy_events = list(
        qs.filter(event_type="policy.registered", subject_id=str(release.policy_id))
    )
    merged = {e.pk: e for e in [*own, *key_events, *policy_events]}
    return sorted(merged.values(), key=lambda e: e.leaf.index)


def build_bundle(*, release: Release | None) -> dict[str, Any]:
    latest = log.checkpoint_create()
    if latest is not None:
        # A fresh checkpoint has no cosignatures yet: ask now rather than export a bundle
        # that a verifier demanding a quorum would refuse.
        checkpoint_witness(checkpoint=latest)
    checkpoints = list(Checkpoint.objects.order_by("size").prefetch_related("cosignatures"))
    size = latest.size if latest else 0
    events = _events_in_scope(release, size)
    leaves = _leaf_hashes([e.leaf.index for e in events])
    event_rows = []
    for event in events:
        row = {
            "index": event.leaf.index,
            "canonical": event.canonical,
            "leaf_hash": leaves.get(node_key(0, event.leaf.index)),
        }
        if release is not None:
            row["inclusion"] = [log.b64(h) for h in log.inclusion_proof(event.leaf.index, size)]
        event_rows.append(row)
    consistency = [
        {
            "first": a.size,
            "second": b.size,
            "hashes": [log.b64(h) for h in log.consistency_proof(a.size, b.size)],
        }
        for a, b in zip(checkpoints, checkpoints[1:], strict=False)
    ]
    policy_ids = (
        [release.policy_id]
        if release is not None
        else list(Release.objects.values_list("policy_id", flat=True).distinct())
    )
    policies = [
        {"digest": p.digest, "name": p.name, "version": p.version, "source": p.source}
        for p in PolicyVersion.objects.filter(pk__in=policy_ids).order_by("pk")
    ]
    payloads = [e.payload for e in events]
    return {
        "format": BUNDLE_FORMAT,
        "generated_at": rfc3339(timezone.now()),
        "log": {
            "origin": log_origin(),
            "verifier_key": log_verifier_key(),
        },
        "scope": {"release": release.pk} if release is not None else {"all": True},
        "tree_size": size,
        "checkpoints": [
            {"size": c.size, "root_hash": log.b64(bytes(c.root_hash)), "note": c.note,
             # tlog-cosignature lines; appended to the note they make the cosigned checkpoint
             "cosignatures": [f"{s.line}\n" for s in c.cosignatures.all()]}
            for c in checkpoints
        ],
        "consistency": consistency,
        "events": event_rows,
        "policies": policies,
        "keys": [p for p in payloads if "public_key" in p],
        "envelopes": [p["envelope"] for p in payloads if "envelope" in p],
    }
