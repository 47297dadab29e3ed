"""The regulator's oversight predicates (fields and claims only; `govflow.trust.statements`
reads the envelope and statement around them).

- regulatory hold (place or lift)::

    subject: govflow:system/<id>/v<n>, digest: the release's manifest digest
    predicate: {action: place|lift, release, hold (lift only), reason, nonce, signed_at}

- sanction on a lab (impose or lift)::

    subject: govflow:organization/<lab slug>
    predicate: {action: impose|lift, lab, sanction (lift only), stage,
                min_training_compute_flop, until, reason, nonce, signed_at}

Standard library and `govflow.trust` only: `python -m govflow.client sign` and the
browser (which signs the exact payload bytes the server prepared) produce envelopes the
server reads with this same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from govflow.trust.intoto import Subject
from govflow.trust.statements import (
    STAGE,
    Reader,
    build,
    new_nonce,
    organization_subject,
    predicate,
    system_subject,
)

HOLD_PREDICATE = "https://govflow.dev/attestations/regulatory-hold/v1"
SANCTION_PREDICATE = "https://govflow.dev/attestations/sanction/v1"
HOLD_ACTIONS = ("place", "lift")
SANCTION_ACTIONS = ("impose", "lift")
MAX_REASON = 4000


@dataclass(frozen=True)
class HoldClaim:
    action: str
    release: int
    hold: int | None
    reason: str
    nonce: str
    signed_at: str
    subject_name: str
    manifest_digest: str


@dataclass(frozen=True)
class SanctionClaim:
    action: str
    lab: str
    sanction: int | None
    stage: str | None
    min_training_compute_flop: float | None
    until: datetime | None
    reason: str
    nonce: str
    signed_at: str


def build_hold(*, action: str, release: int, system_id: int, version_number: int,
               manifest_digest: str, reason: str, hold: int | None = None,
               nonce: str | None = None, signed_at: str | None = None) -> dict[str, Any]:
    return build(system_subject(system_id, version_number, manifest_digest), HOLD_PREDICATE, {
        "action": action, "release": release, "hold": hold, "reason": reason,
        "nonce": nonce or new_nonce(), "signed_at": signed_at})


def build_sanction(*, action: str, lab: str, reason: str, stage: str | None = None,
                   min_training_compute_flop: float | None = None, until: str | None = None,
                   sanction: int | None = None, nonce: str | None = None,
                   signed_at: str | None = None) -> dict[str, Any]:
    return build(organization_subject(lab), SANCTION_PREDICATE, {
        "action": action, "lab": lab, "sanction": sanction, "stage": stage,
        "min_training_compute_flop": min_training_compute_flop, "until": until,
        "reason": reason, "nonce": nonce or new_nonce(), "signed_at": signed_at})


@predicate(HOLD_PREDICATE, subject="system")
def _hold(r: Reader, subject: Subject) -> HoldClaim:
    action = r.string("action", max_length=16, choices=HOLD_ACTIONS)
    return HoldClaim(action=action, release=r.id("release"),
                     hold=r.optional_id("hold", required=action == "lift"),
                     reason=r.string("reason", max_length=MAX_REASON), nonce=r.p["nonce"],
                     signed_at=r.p["signed_at"], subject_name=subject.name,
                     manifest_digest="sha256:" + subject.digest["sha256"])


@predicate(SANCTION_PREDICATE, subject="organization")
def _sanction(r: Reader, subject: Subject) -> SanctionClaim:
    action = r.string("action", max_length=16, choices=SANCTION_ACTIONS)
    reason = r.string("reason", max_length=MAX_REASON)
    lab = r.organization("lab", subject)
    stage = compute = until = None
    if action == "impose":
        stage = r.string("stage", max_length=63, pattern=STAGE)
        compute = r.number("min_training_compute_flop")
        until = r.time("until")
    return SanctionClaim(action=action, lab=lab,
                         sanction=r.optional_id("sanction", required=action == "lift"), stage=stage,
                         min_training_compute_flop=compute, until=until, reason=reason,
                         nonce=r.p["nonce"], signed_at=r.p["signed_at"])
