"""Placing and lifting regulatory holds, imposing and lifting sanctions.

Each is a statement signed with the regulator's registered key, run by the kernel
(`govflow.keys.acts`: parse, authorise, verify, then this module's service inside the
kernel's recording transaction, which has re-checked the key and spent the nonce), with
exactly one audit event, which carries the envelope so the log itself proves who ordered
what.

Locks: a hold takes the release's row lock, the lock `release_advance` holds while it
checks for a standing hold, so an advance and a hold never interleave. A sanction locks
every release of the lab (in primary-key order, like any multi-row lock here) for the
same reason: once it commits, no advance that read the old state can still commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from govflow.accounts.models import Organization, OrganizationKind
from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.core.errors import Conflict, NotFound, ValidationFailed
from govflow.core.times import rfc3339_or_none
from govflow.keys.acts import release_subject, subject_check
from govflow.keys.verification import Verified
from govflow.oversight.models import RegulatoryHold, Sanction, SignedAction
from govflow.oversight.predicates import build_hold, build_sanction
from govflow.oversight.selectors import standing_hold
from govflow.releases.locks import lock_release
from govflow.releases.models import Release


def _refuse(rule: str, message: str, cls=Conflict, **detail) -> Exception:
    return cls(message, detail={"rule": rule, **detail})


# --- statements to sign (read only) ------------------------------------------------------


def hold_statement(*, release: Release, action: str, reason: str,
                   hold: RegulatoryHold | None = None) -> dict[str, Any]:
    version = release.system_version
    return build_hold(action=action, release=release.pk, system_id=version.system_id,
                      version_number=version.number, manifest_digest=version.manifest_digest,
                      reason=reason, hold=hold.pk if hold else None)


def sanction_statement(*, action: str, lab: Organization, reason: str,
                       stage: str | None = None, min_training_compute_flop: float | None = None,
                       until: datetime | None = None,
                       sanction: Sanction | None = None) -> dict[str, Any]:
    return build_sanction(action=action, lab=lab.slug, reason=reason, stage=stage,
                          min_training_compute_flop=min_training_compute_flop,
                          until=rfc3339_or_none(until), sanction=sanction.pk if sanction else None)


# --- recording ---------------------------------------------------------------------------


def _record(verified: Verified, actor, now: datetime) -> SignedAction:
    claim = verified.claim
    return SignedAction.objects.create(
        predicate_type=verified.statement["predicateType"], action=claim.action,
        signer=actor, key=verified.key, nonce=claim.nonce, claimed_signed_at=claim.signed_at,
        envelope=verified.envelope, statement=verified.statement, recorded_at=now,
    )


def _signed_payload(signed: SignedAction, verified: Verified) -> dict[str, Any]:
    return {"key_id": signed.key.key_id, "nonce": signed.nonce,
            "envelope": verified.envelope, "statement": verified.statement}


def _check_action(claim, expected: str) -> None:
    if claim.action != expected:
        raise _refuse("wrong_action", f"the statement says {claim.action!r}, this endpoint "
                                      f"records {expected!r}", ValidationFailed)


def hold_place(*, verified: Verified, actor, now: datetime, target=None,
               context=None) -> RegulatoryHold:
    claim = verified.claim
    _check_action(claim, "place")
    release = lock_release(claim.release)
    subject_check(verified, release_subject(release), release.pk)
    standing = standing_hold(release.pk)
    if standing is not None:
        raise _refuse("hold_standing", f"release {release.pk} is already under hold "
                                       f"{standing.pk}", hold=standing.pk)
    signed = _record(verified, actor, now)
    hold = RegulatoryHold.objects.create(release=release, reason=claim.reason, placed_by=actor,
                                         placed_at=now, placed_with=signed)
    audit_append(
        event_type=EventType.HOLD_PLACED, actor=actor, subject=hold,
        organization_id=release.organization_id, release_id=release.pk,
        payload={"hold": hold.pk, "reason": claim.reason, "stage": release.stage,
                 **_signed_payload(signed, verified)},
    )
    return hold


def hold_lift(*, verified: Verified, actor, now: datetime, target: int,
              context=None) -> RegulatoryHold:
    hold_id = target
    claim = verified.claim
    _check_action(claim, "lift")
    if claim.hold != hold_id:
        raise _refuse("wrong_hold", f"the statement lifts hold {claim.hold}, not {hold_id}")
    found = RegulatoryHold.objects.filter(pk=hold_id).values_list("release_id", flat=True).first()
    if found is None:
        raise NotFound(f"hold {hold_id} does not exist")
    release = lock_release(found)  # the release first, as every release service locks
    hold = RegulatoryHold.objects.select_for_update().get(pk=hold_id)
    if claim.release != hold.release_id:
        raise _refuse("wrong_release", f"hold {hold_id} is on release {hold.release_id}, "
                                       f"the statement names {claim.release}")
    subject_check(verified, release_subject(release), release.pk)
    if hold.lifted_at is not None:
        raise _refuse("hold_lifted",
                      f"hold {hold_id} was lifted at {rfc3339_or_none(hold.lifted_at)}")
    signed = _record(verified, actor, now)
    hold.lifted_by, hold.lifted_at, hold.lift_reason, hold.lifted_with = (
        actor, now, claim.reason, signed)
    hold.save(update_fields=["lifted_by", "lifted_at", "lift_reason", "lifted_with"])
    audit_append(
        event_type=EventType.HOLD_LIFTED, actor=actor, subject=hold,
        organization_id=release.organization_id, release_id=release.pk,
        payload={"hold": hold.pk, "reason": claim.reason, **_signed_payload(signed, verified)},
    )
    return hold


def _lock_lab_releases(lab_id: int) -> None:
    list(Release.objects.select_for_update().filter(organization_id=lab_id).order_by("pk")
         .values_list("pk", flat=True))


def sanction_impose(*, verified: Verified, actor, now: datetime, target=None,
                    context=None) -> Sanction:
    claim = verified.claim
    _check_action(claim, "impose")
    lab = Organization.objects.filter(slug=claim.lab, kind=OrganizationKind.LAB).first()
    if lab is None:
        raise _refuse("no_such_lab", f"there is no lab {claim.lab!r}", ValidationFailed)
    if claim.until <= now:
        raise _refuse("until_past", f"until ({rfc3339_or_none(claim.until)}) must be in the future",
                      ValidationFailed)
    _lock_lab_releases(lab.pk)
    signed = _record(verified, actor, now)
    sanction = Sanction.objects.create(
        lab=lab, stage=claim.stage, min_training_compute_flop=claim.min_training_compute_flop,
        until=claim.until, reason=claim.reason, imposed_by=actor, imposed_at=now,
        imposed_with=signed,
    )
    audit_append(
        event_type=EventType.SANCTION_IMPOSED, actor=actor, subject=sanction,
        organization_id=lab.pk,
        payload={"sanction": sanction.pk, "lab": lab.slug, "stage": claim.stage,
                 "min_training_compute_flop": claim.min_training_compute_flop,
                 "until": rfc3339_or_none(claim.until), "reason": claim.reason,
                 **_signed_payload(signed, verified)},
    )
    return sanction


def sanction_lift(*, verified: Verified, actor, now: datetime, target: int,
                  context=None) -> Sanction:
    sanction_id = target
    claim = verified.claim
    _check_action(claim, "lift")
    if claim.sanction != sanction_id:
        raise _refuse("wrong_sanction", f"the statement lifts sanction {claim.sanction}, "
                                        f"not {sanction_id}")
    sanction = Sanction.objects.select_for_update().select_related("lab").filter(
        pk=sanction_id).first()
    if sanction is None:
        raise NotFound(f"sanction {sanction_id} does not exist")
    if claim.lab != sanction.lab.slug:
        raise _refuse("wrong_lab", f"sanction {sanction_id} is on {sanction.lab.slug}")
    if sanction.lifted_at is not None:
        raise _refuse("sanction_lifted", f"sanction {sanction_id} was already lifted")
    signed = _record(verified, actor, now)
    sanction.lifted_by, sanction.lifted_at, sanction.lift_reason, sanction.lifted_with = (
        actor, now, claim.reason, signed)
    sanction.save(update_fields=["lifted_by", "lifted_at", "lift_reason", "lifted_with"])
    audit_append(
        event_type=EventType.SANCTION_LIFTED, actor=actor, subject=sanction,
        organization_id=sanction.lab_id,
        payload={"sanction": sanction.pk, "lab": sanction.lab.slug, "reason": claim.reason,
                 **_signed_payload(signed, verified)},
    )
    return sanction
