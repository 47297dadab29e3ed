"""Signed cohort snapshots: building them, verifying them, checking membership locally.

Standard library and `govflow.trust` only, so a lab's serving gateway and a regulator's
tools can use this module without Django.

A snapshot is an in-toto statement, signed (DSSE) with the audit log's key, whose
subject is the cohort's allowlist named by its RFC 9162 Merkle root:

    {"_type": "https://in-toto.io/Statement/v1",
     "subject": [{"name": "govflow:release/7/cohort/limited_rollout",
                  "digest": {"sha256": "<root, hex>"}}],
     "predicateType": "https://govflow.dev/attestations/cohort-snapshot/v1",
     "predicate": {"release": 7, "stage": "limited_rollout", "cohort": 3,
                   "cohort_version": 42, "size": 250, "cap": 1000, "kyc_level": "standard",
                   "leaf_scheme": "…", "manifest_digest": "sha256:…",
                   "issued_at": "2025-01-01T12:00:00Z"}}

Each leaf's data is SHA-256(salt || "customer:" + external id) with a random 16-byte
salt per admission; the tree hashes it as an RFC 9162 leaf (SHA-256(0x00 || data)).
Leaves are in ascending order of their data, which says nothing about who joined when.
A regulator given the signed statement and the leaves checks that the root and size
match and that the size is within the cap, and learns no customer's id. A gateway given
the members' ids and salts as well checks a customer locally: leaf, position, inclusion
proof against the signed root.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from govflow.trust import merkle
from govflow.trust.intoto import Statement, StatementError, Subject, verify_statement
from govflow.trust.keys import public_key_id

PREDICATE_TYPE = "https://govflow.dev/attestations/cohort-snapshot/v1"
MEMBER_PREFIX = "customer:"
LEAF_SCHEME = (
    "leaf data = SHA-256(salt || 'customer:' + external id), ascending; "
    "RFC 9162 tree over SHA-256(0x00 || leaf data)"
)


class SnapshotError(ValueError):
    """A snapshot does not verify, or does not match its leaves."""


def member_id(external_id: str) -> str:
    return MEMBER_PREFIX + external_id


def leaf_data(salt_hex: str, external_id: str) -> bytes:
    return hashlib.sha256(bytes.fromhex(salt_hex) + member_id(external_id).encode()).digest()


def tree_root(leaves: list[bytes]) -> bytes:
    return merkle.root_from_leaf_hashes([merkle.leaf_hash(d) for d in leaves])


def subject_name(release: int, stage: str) -> str:
    return f"govflow:release/{release}/cohort/{stage}"


def build_statement(*, release: int, stage: str, cohort: int, cohort_version: int,
                    leaves: list[bytes], cap: int, kyc_level: str, manifest_digest: str,
                    issued_at: str) -> Statement:
    root = tree_root(leaves)
    return Statement(
        (Subject(subject_name(release, stage), {"sha256": root.hex()}),),
        PREDICATE_TYPE,
        {
            "release": release,
            "stage": stage,
            "cohort": cohort,
            "cohort_version": cohort_version,
            "size": len(leaves),
            "cap": cap,
            "kyc_level": kyc_level,
            "leaf_scheme": LEAF_SCHEME,
            "manifest_digest": manifest_digest,
            "issued_at": issued_at,
        },
    )


@dataclass(frozen=True)
class VerifiedSnapshot:
    release: int
    stage: str
    size: int
    cap: int
    root: bytes
    predicate: Mapping[str, Any]
    leaves: list[bytes]


def verify_snapshot(snapshot: Mapping[str, Any], key: Ed25519PublicKey) -> VerifiedSnapshot:
    """Check a published snapshot as a regulator would, without any customer id: the
    signature (by ``key``, the log's key), that the leaves are in order and hash to the
    signed root, that their number is the signed size, and that it is within the cap."""
    try:
        statement, _ = verify_statement(snapshot["envelope"], {public_key_id(key): key},
                                        predicate_type=PREDICATE_TYPE)
    except (StatementError, KeyError, TypeError) as exc:
        raise SnapshotError(f"the snapshot's signature does not verify: {exc}") from exc
    predicate = statement.predicate
    try:
        leaves = [bytes.fromhex(h) for h in snapshot["leaves"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotError("the snapshot's leaves are not a list of hex digests") from exc
    if leaves != sorted(leaves) or len(set(leaves)) != len(leaves):
        raise SnapshotError("the leaves are not in strictly ascending order")
    root = tree_root(leaves)
    signed_root = statement.subjects[0].digest.get("sha256")
    if root.hex() != signed_root:
        raise SnapshotError(f"the leaves hash to {root.hex()}, the statement signs {signed_root}")
    if predicate.get("size") != len(leaves):
        raise SnapshotError(f"{len(leaves)} leaves, but the statement signs size "
                            f"{predicate.get('size')}")
    if not isinstance(predicate.get("cap"), int) or len(leaves) > predicate["cap"]:
        raise SnapshotError(f"the cohort's size {len(leaves)} exceeds its cap "
                            f"{predicate.get('cap')}")
    return VerifiedSnapshot(release=predicate["release"], stage=predicate["stage"],
                            size=len(leaves), cap=predicate["cap"], root=root,
                            predicate=predicate, leaves=leaves)


class SnapshotIndex:
    """A gateway's local copy of a snapshot: verified once, then asked per session.

    ``contains`` recomputes the customer's leaf from its id and salt, finds its position
    and checks an inclusion proof (built from the local tree) against the *signed* root,
    so a tampered local list cannot admit anyone the signed snapshot does not.
    """

    def __init__(self, snapshot: Mapping[str, Any], key: Ed25519PublicKey):
        verified = verify_snapshot(snapshot, key)
        self.verified = verified
        self._position = {leaf: i for i, leaf in enumerate(verified.leaves)}
        self._salts: dict[str, str] = {}
        for member in snapshot.get("members", []):
            self._salts[member["customer"]] = member["salt"]
        self._nodes = merkle.build_perfect_nodes(
            [merkle.leaf_hash(d) for d in verified.leaves]
        )

    def _node(self, level: int, index: int) -> bytes:
        return self._nodes[(level, index)]

    def proof(self, external_id: str) -> tuple[int, list[bytes]] | None:
        salt = self._salts.get(external_id)
        if salt is None:
            return None
        index = self._position.get(leaf_data(salt, external_id))
        if index is None:
            return None
        return index, merkle.inclusion_proof(index, self.verified.size, self._node)

    def contains(self, external_id: str) -> bool:
        salt = self._salts.get(external_id)
        if salt is None:
            return False
        data = leaf_data(salt, external_id)
        index = self._position.get(data)
        if index is None:
            return False
        path = merkle.inclusion_proof(index, self.verified.size, self._node)
        return merkle.verify_inclusion(merkle.leaf_hash(data), index, self.verified.size, path,
                                       self.verified.root)
