"""The rollout predicates: a signed approval to grow a cohort past a policy step, and a
person's signed order to publish a cohort snapshot now.

- cohort growth::

    subject: govflow:system/<id>/v<n>, digest: the manifest digest
    predicate: {release, stage, up_to, role, decision, comment, nonce, signed_at}

- snapshot publication (the snapshot itself is signed with the log's key)::

    subject: govflow:system/<id>/v<n>
    predicate: {release, stage, nonce, signed_at}

Approvals are counted with the sign-offs' rule (`govflow.signoffs.tally`): each role the
policy's `step_approvals` names needs its count of distinct people, a person's latest
statement for the step is theirs, and a reject vetoes. Standard library and
`govflow.trust` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from govflow.trust.intoto import Subject
from govflow.trust.statements import (
    STAGE,
    Reader,
    build,
    new_nonce,
    predicate,
    system_subject,
)

GROWTH_PREDICATE = "https://govflow.dev/attestations/cohort-growth/v1"
SNAPSHOT_ORDER_PREDICATE = "https://govflow.dev/attestations/cohort-snapshot-order/v1"
DECISIONS = ("approve", "reject")


@dataclass(frozen=True)
class GrowthClaim:
    release: int
    stage: str
    up_to: int
    subject_name: str
    manifest_digest: str
    role: str
    decision: str
    comment: str
    nonce: str
    signed_at: str


def build_growth(*, release: int, stage: str, up_to: int, system_id: int,
                 version_number: int, manifest_digest: str, role: str, decision: str,
                 comment: str, nonce: str, signed_at: str | None = None) -> dict[str, Any]:
    return build(system_subject(system_id, version_number, manifest_digest), GROWTH_PREDICATE, {
        "release": release, "stage": stage, "up_to": up_to, "role": role,
        "decision": decision, "comment": comment, "nonce": nonce, "signed_at": signed_at})


@predicate(GROWTH_PREDICATE, subject="system")
def _growth(r: Reader, subject: Subject) -> GrowthClaim:
    return GrowthClaim(
        release=r.id("release"), stage=r.string("stage", pattern=STAGE, max_length=64),
        up_to=r.id("up_to"), subject_name=subject.name,
        manifest_digest="sha256:" + subject.digest["sha256"],
        role=r.string("role", max_length=32), decision=r.string("decision", choices=DECISIONS),
        comment=r.string("comment", max_length=4000, allow_empty=True), nonce=r.p["nonce"],
        signed_at=r.p["signed_at"],
    )


@dataclass(frozen=True)
class SnapshotOrderClaim:
    release: int
    stage: str
    nonce: str
    signed_at: str


def build_snapshot_order(*, release: dict[str, Any], stage: str, nonce: str | None = None,
                         signed_at: str | None = None) -> dict[str, Any]:
    """``release`` is the release as the API returns it (id, system, version, digest)."""
    subject = system_subject(release["system"], release["system_version_number"],
                             release["manifest_digest"])
    return build(subject, SNAPSHOT_ORDER_PREDICATE, {
        "release": release["id"], "stage": stage, "nonce": nonce or new_nonce(),
        "signed_at": signed_at})


@predicate(SNAPSHOT_ORDER_PREDICATE, subject="system")
def _snapshot_order(r: Reader, subject: Subject) -> SnapshotOrderClaim:  # noqa: ARG001
    return SnapshotOrderClaim(release=r.id("release"),
                              stage=r.string("stage", pattern=STAGE, max_length=64),
                              nonce=r.p["nonce"], signed_at=r.p["signed_at"])
