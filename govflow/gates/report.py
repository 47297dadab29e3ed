"""What a gate report's evidence digest covers, shared by the engine (which signers
sign over), the client (a signer checks it before signing) and the offline verifier
(which recomputes it). Pure: standard library and govflow.trust only."""

from __future__ import annotations

import hashlib
from typing import Any

from govflow.trust.canonical import canonical_json


def evidence_digest_input(report: dict[str, Any]) -> dict[str, Any]:
    """The part of a report that signers approve.

    It covers the release, the move, the policy and system digests and the evidence
    of every non-approval gate, but not the time of evaluation, the human-readable
    reasons or the approval gates themselves (a sign-off cannot sign over the count
    of sign-offs it is about to change).
    """
    return {
        "release": report["release"],
        "from": report["from"],
        "target": report["target"],
        "policy_digest": report["policy_digest"],
        "manifest_digest": report["manifest_digest"],
        "gates": [
            {"id": g["id"], "kind": g["kind"], "params": g["params"], "evidence": g["evidence"]}
            for g in report["gates"]
            if not g["approval"]
        ],
    }


def recompute_evidence_digest(report: dict[str, Any]) -> str:
    """``sha256:<hex>`` of the evidence a report shows, as the server computes it."""
    return "sha256:" + hashlib.sha256(canonical_json(evidence_digest_input(report))).hexdigest()
