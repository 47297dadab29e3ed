"""The sign-off predicate: what a person signs to approve or reject a release's next step.

    subject: govflow:system/<system id>/v<number>, digest: the manifest digest
    predicateType: https://govflow.dev/attestations/signoff/v1
    predicate: {release, transition: {from, to}, stage_entry, gate_report_digest,
                policy_digest, role, decision, comment, nonce, signed_at}

`stage_entry` is the id of the stage transition that brought the release into its
current stage, so a sign-off given before a rollback never counts after it, even when
the evidence is unchanged. The nonce is issued by the server to the signer
(`GET /api/releases/{id}/signoff-nonce`): single use, bound to that person, expiring.
Standard library and `govflow.trust` only (the client builds statements with it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from govflow.trust.intoto import Subject
from govflow.trust.statements import DIGEST, Reader, build, predicate, system_subject

PREDICATE_TYPE = "https://govflow.dev/attestations/signoff/v1"
DECISIONS = ("approve", "reject")
MAX_COMMENT = 4000


@dataclass(frozen=True)
class SignoffClaim:
    release: int
    from_stage: str
    to_stage: str
    stage_entry: int
    gate_report_digest: str
    policy_digest: str
    manifest_digest: str  # "sha256:<hex>", from the subject
    subject_name: str
    role: str
    decision: str
    comment: str
    nonce: str
    signed_at: str


def build_statement(
    *, release: int, system_id: int, version_number: int, manifest_digest: str,
    from_stage: str, to_stage: str, stage_entry: int, gate_report_digest: str,
    policy_digest: str, role: str, decision: str, comment: str, nonce: str,
    signed_at: str | None = None,
) -> dict[str, Any]:
    return build(system_subject(system_id, version_number, manifest_digest), PREDICATE_TYPE, {
        "release": release, "transition": {"from": from_stage, "to": to_stage},
        "stage_entry": stage_entry, "gate_report_digest": gate_report_digest,
        "policy_digest": policy_digest, "role": role, "decision": decision,
        "comment": comment, "nonce": nonce, "signed_at": signed_at,
    })


@predicate(PREDICATE_TYPE, subject="system")
def _parse(r: Reader, subject: Subject) -> SignoffClaim:
    transition = r.p.get("transition")
    if not isinstance(transition, dict):
        raise r.fail("transition", "must be {from, to}")
    t = Reader(transition)
    try:
        from_stage, to_stage = (t.string("from", max_length=64), t.string("to", max_length=64))
    except ValueError as exc:
        raise r.fail("transition", str(exc).removeprefix("predicate.")) from exc
    return SignoffClaim(
        release=r.id("release"), from_stage=from_stage, to_stage=to_stage,
        stage_entry=r.id("stage_entry"),
        gate_report_digest=r.string("gate_report_digest", pattern=DIGEST),
        policy_digest=r.string("policy_digest", pattern=DIGEST),
        manifest_digest="sha256:" + subject.digest["sha256"], subject_name=subject.name,
        role=r.string("role", max_length=32), decision=r.string("decision", choices=DECISIONS),
        comment=r.string("comment", max_length=MAX_COMMENT, allow_empty=True),
        nonce=r.p["nonce"], signed_at=r.p["signed_at"],
    )
