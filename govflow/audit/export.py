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
from govflow.trust import release_chain

BUNDLE_FORMAT = "govflow-bundle/v1"
KEY_EVENT_PREFIX = "key."
KEY_CERTIFICATE_PREFIX = "key_certificate."


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
    # What the replay's gates rest on that is not about the release itself: sanctions
    # on its lab and the manifests (training compute) of its system versions.
    manifests = {release.system_version.manifest_digest}
    for e in own:
        if e.event_type == "release.opened":
            manifests.add(e.payload["manifest_digest"])
        elif e.event_type == "release.system_version_changed":
            manifests |= {e.payload["from_manifest_digest"], e.payload["to_manifest_digest"]}
    context = list(
        qs.filter(event_type__startswith="sanction.", organization_id=release.organization_id)
    ) + list(qs.filter(event_type__in=("system.registered", "system.version_created"),
                       organization_id=release.organization_id,
                       payload__manifest_digest__in=sorted(manifests)))
    # The third-party audit rests on the certificates the release's auditors were assigned
    # under and on the conflicts auditor firms declared with its lab.
    certificates = sorted({e.payload["certificate"] for e in own
                           if e.event_type == "assignment.created"})
    context += list(qs.filter(event_type__startswith="certificate.",
                              payload__certificate__in=certificates))
    context += list(qs.filter(event_type="conflict.declared",
                              payload__lab_id=release.organization_id))
    # The cohort gate judges each member's KYC record: the records of its customers.
    customers = sorted({e.payload["customer"] for e in own
                        if e.event_type == "cohort.member_admitted"})
    context += list(qs.filter(event_type="kyc.recorded", organization_id=release.organization_id,
                              payload__customer__in=customers))
    # The deception gate pools every run registered for the system version, whichever
    # release registered it: their registrations and closing events.
    versions = {release.system_version_id}
    for e in own:
        if e.event_type == "release.opened":
            versions.add(e.payload["system_version"])
        elif e.event_type == "release.system_version_changed":
            versions |= {e.payload["from_version"], e.payload["to_version"]}
    started = list(qs.filter(event_type="eval_run.started",
                             payload__system_version__in=sorted(versions)))
    context += started
    if started:
        context += list(qs.filter(event_type__startswith="eval_run.",
                                  subject_type=started[0].subject_type,
                                  subject_id__in=[e.subject_id for e in started])
                        .exclude(event_type="eval_run.started"))
    # Keys that signed anything here: include their key events too, so the verifier
    # can check each key was registered (and not revoked) when it signed.
    key_ids = {e.payload["key_id"] for e in [*own, *context] if e.payload.get("key_id")}
    # The regulator's certificates of those keys (and their revocations), which a gate
    # requiring certified keys counts on; then the keys that signed the certificates.
    certificate_events = [
        e for e in qs.filter(event_type__startswith=KEY_CERTIFICATE_PREFIX)
        if e.payload.get("certified_key_id") in key_ids
    ]
    key_ids |= {e.payload["key_id"] for e in certificate_events if e.payload.get("key_id")}
    key_events = [
        e for e in qs.filter(event_type__startswith=KEY_EVENT_PREFIX).order_by("leaf__index")
        if e.payload.get("key_id") in key_ids or e.payload.get("revoked_key_id") in key_ids
    ]
    policy_events = list(
        qs.filter(event_type="policy.registered", subject_id=str(release.policy_id))
    )
    merged = {
        e.pk: e for e in [*own, *key_events, *certificate_events, *policy_events, *context,
                          *_heads_events(qs, own)]
    }
    return sorted(merged.values(), key=lambda e: e.leaf.index)


def _heads_events(qs, own: list[AuditEvent]) -> list[AuditEvent]:
    """The release-heads events a per-release bundle needs to prove it is complete: the
    last one before the release's first event (which predates it) and all after."""
    heads = qs.filter(event_type=release_chain.HEADS_EVENT)
    if own:
        before = heads.filter(leaf__index__lt=own[0].leaf.index).order_by("-leaf__index")[:1]
        heads = heads.filter(leaf__index__gt=own[0].leaf.index) | heads.filter(
            pk__in=before.values("pk"))
    return list(heads)


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
