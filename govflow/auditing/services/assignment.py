"""Independence: conflicts of interest declared by auditor firms, and the regulator's
assignment of auditors to a release's third-party audit.

The lab has no say here: the regulator assigns, and only the regulator ends an
engagement early (the auditor ends it by concluding). An assignment refuses an auditor
whose firm is not certified for the release's risk areas (and the access level), whose
certificate would expire before the engagement ends, that declared a conflict with the
lab over the engagement, or (policy `max_consecutive_releases`) that has audited the
lab's last K releases in a row. Each refusal is a 409 naming its rule.
"""

from __future__ import annotations

from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from govflow.accounts.access import is_auditor
from govflow.accounts.models import Organization, OrganizationKind
from govflow.accounts.selectors import user_organization
from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.auditing.locks import lock_assignment
from govflow.auditing.models import (
    AccessGrant,
    Assignment,
    Certificate,
    ConflictOfInterest,
    EndReason,
)
from govflow.auditing.policy import audit_rules
from govflow.auditing.predicates import ACCESS_LEVELS
from govflow.auditing.selectors import (
    conflicts_between,
    consecutive_engagements,
    current_stage_entry,
)
from govflow.auditing.services.standing import iso
from govflow.core.errors import Conflict, field_error
from govflow.keys.acts import release_subject, signed_fields, subject_check
from govflow.keys.verification import Verified
from govflow.releases.locks import lock_release
from govflow.releases.models import ReleaseStatus


def _refuse(rule: str, message: str, **detail) -> Conflict:
    return Conflict(message, detail={"rule": rule, **detail})


@transaction.atomic
def conflict_declare(*, auditor: Organization, lab_slug: str, kind: str, description: str,
                     starts_on: date, ends_on: date | None, actor) -> ConflictOfInterest:
    lab = Organization.objects.filter(slug=lab_slug, kind=OrganizationKind.LAB).first()
    if lab is None:
        raise field_error("lab", f"{lab_slug!r} is not a lab")
    if not description.strip():
        raise field_error("description", "may not be blank")
    if ends_on is not None and ends_on < starts_on:
        raise field_error("ends_on", "must not be before starts_on")
    conflict = ConflictOfInterest.objects.create(
        auditor=auditor, lab=lab, kind=kind, description=description.strip(),
        starts_on=starts_on, ends_on=ends_on, declared_by=actor, declared_at=timezone.now(),
    )
    audit_append(
        event_type=EventType.CONFLICT_DECLARED,
        actor=actor,
        subject=conflict,
        organization_id=auditor.pk,
        payload={"conflict": conflict.pk, "auditor": auditor.slug, "lab": lab.slug,
                 "lab_id": lab.pk, "kind": kind, "description": conflict.description,
                 "starts_on": starts_on.isoformat(),
                 "ends_on": ends_on.isoformat() if ends_on else None},
    )
    return conflict


def _certificate_for(org, *, risk_areas, access_level: str | None, now: datetime,
                     ends_at: datetime) -> Certificate:
    """The certificate the engagement rests on, or the refusal saying why there is none."""
    current = [c for c in Certificate.objects.filter(auditor=org).order_by("-valid_until", "-id")
               if c.is_current_at(now)]
    if not current:
        raise _refuse("uncertified", f"{org.slug} holds no active certificate")
    scoped = [c for c in current if c.covers(risk_areas)]
    if not scoped:
        held = sorted({a for c in current for a in c.risk_areas})
        raise _refuse("uncertified",
                      f"{org.slug} is not certified for the release's risk areas "
                      f"({', '.join(risk_areas)}); its certificates cover: {', '.join(held)}")
    levelled = [c for c in scoped if access_level is None or access_level in c.access_levels]
    if not levelled:
        raise _refuse("access_level",
                      f"{org.slug} is not certified for {access_level} access")
    lasting = [c for c in levelled if c.valid_until >= ends_at]
    if not lasting:
        best = levelled[0]
        raise _refuse("certificate_expires",
                      f"certificate {best.pk} of {org.slug} expires at {iso(best.valid_until)}, "
                      f"before the engagement would end at {iso(ends_at)}")
    return lasting[0]


@transaction.atomic
def assignment_create(*, release_id: int, auditor, ends_at: datetime, actor,
                      access_level: str | None = None, now: datetime | None = None,
                      signed: Verified | None = None) -> Assignment:
    """The regulator assigns ``auditor`` to the release's third-party audit until ``ends_at``
    and grants them access to the system at ``access_level`` (default: the highest their
    certificate allows). ``signed``: the regulator's verified assignment statement (the
    API's only way here: `assignment_create_record`); its signature rides in the event."""
    now = now or timezone.now()
    # Under the release lock: the round, the streak and the open assignments cannot move
    # while we decide, and two regulators assigning at once are serialised.
    release = lock_release(release_id)
    if release.status != ReleaseStatus.ACTIVE:
        raise Conflict(f"release {release.pk} is {release.status}; auditors are assigned to "
                       "active releases")
    rules = audit_rules(release)
    if not rules.audited:
        raise _refuse("not_in_audit",
                      f"release {release.pk} is at {release.stage}, and the stage it would "
                      f"enter next ({rules.entering or 'none'}) has no third_party_audit gate")
    org = user_organization(auditor)
    if org is None or not is_auditor(auditor):
        raise field_error("auditor", f"{auditor.get_username()} is not an auditor")
    if ends_at <= now:
        raise field_error("ends_at", f"must be in the future (now is {iso(now)})")
    if access_level is not None and access_level not in ACCESS_LEVELS:
        raise field_error("access_level", f"one of: {', '.join(ACCESS_LEVELS)}")
    entry = current_stage_entry(release)
    if Assignment.objects.filter(release=release, stage_entry=entry, auditor=auditor,
                                 ended_at__isnull=True).exists():
        raise _refuse("already_assigned",
                      f"{auditor.get_username()} is already assigned to release {release.pk}")
    certificate = _certificate_for(org, risk_areas=rules.risk_areas, access_level=access_level,
                                   now=now, ends_at=ends_at)
    conflicts = list(conflicts_between(org, release.organization, start=now, end=ends_at))
    if conflicts:
        raise _refuse("conflict",
                      f"{org.slug} declared a conflict of interest with "
                      f"{release.organization.slug} over the engagement",
                      conflicts=[c.pk for c in conflicts])
    if rules.max_consecutive:
        streak = consecutive_engagements(org, release)
        if len(streak) >= rules.max_consecutive:
            raise _refuse("consecutive",
                          f"{org.slug} audited the lab's last {len(streak)} releases in a row; "
                          f"the policy allows at most {rules.max_consecutive}",
                          releases=streak)
    level = access_level or certificate.access_levels[-1]
    assignment = Assignment.objects.create(
        release=release, stage_entry=entry, auditor=auditor, auditor_organization=org,
        certificate=certificate, access_level=level, risk_areas=list(rules.risk_areas),
        starts_at=now, ends_at=ends_at, assigned_by=actor, assigned_at=now,
    )
    grant = AccessGrant.objects.create(
        assignment=assignment, grantee=auditor, release=release, access_level=level,
        valid_from=now, valid_until=ends_at,
    )
    audit_append(
        event_type=EventType.ASSIGNMENT_CREATED,
        actor=actor,
        subject=assignment,
        organization_id=release.organization_id,
        release_id=release.pk,
        payload={"assignment": assignment.pk, "auditor": auditor.get_username(),
                 "auditor_id": auditor.pk, "auditor_organization": org.slug,
                 "certificate": certificate.pk, "access_level": level,
                 "risk_areas": list(rules.risk_areas), "stage_entry": entry.pk,
                 "starts_at": iso(now), "ends_at": iso(ends_at), "grant": grant.pk,
                 **signed_fields(signed)},
    )
    return assignment


def assignment_create_record(*, verified: Verified, actor, now: datetime, target: int,
                             context=None) -> Assignment:
    """The regulator's signed assignment of an auditor to release ``target`` (inside the
    kernel's recording transaction): the statement names the release, its system
    version, the auditor by username and the end of the engagement."""
    claim = verified.claim
    if claim.release != target:
        raise field_error("envelope.payload: predicate.release", f"must be {target}",
                          summary=f"the statement assigns to release {claim.release}, not "
                          f"{target}")
    release = lock_release(target)
    subject_check(verified, release_subject(release), release.pk)
    auditor = get_user_model().objects.filter(username=claim.auditor).first()
    if auditor is None:
        raise field_error("envelope.payload: predicate.auditor", f"no user {claim.auditor!r}",
                          summary="no such auditor")
    return assignment_create(release_id=release.pk, auditor=auditor, ends_at=claim.ends_at,
                             access_level=claim.access_level, actor=actor, now=now,
                             signed=verified)


def close_engagement(assignment: Assignment, *, reason: str, note: str,
                     now: datetime) -> int | None:
    """End a locked, open assignment and revoke its access grant. Returns the grant's id.
    Part of the caller's change: it writes no event of its own."""
    assignment.ended_at = now
    assignment.end_reason = reason
    assignment.end_note = note
    assignment.save(update_fields=["ended_at", "end_reason", "end_note"])
    revoked = AccessGrant.objects.filter(assignment=assignment, revoked_at__isnull=True)
    grant_id = revoked.values_list("id", flat=True).first()
    revoked.update(revoked_at=now, revoked_reason=note)
    return grant_id


def end_assignment_locked(assignment: Assignment, *, reason: str, note: str, actor,
                          now: datetime, signed: Verified | None = None) -> Assignment:
    grant_id = close_engagement(assignment, reason=reason, note=note, now=now)
    audit_append(
        event_type=EventType.ASSIGNMENT_ENDED,
        actor=actor,
        subject=assignment,
        organization_id=assignment.release.organization_id,
        release_id=assignment.release_id,
        payload={"assignment": assignment.pk, "auditor": assignment.auditor.get_username(),
                 "end_reason": reason, "note": note, "grant_revoked": grant_id,
                 **signed_fields(signed)},
    )
    return assignment


@transaction.atomic
def assignment_end(*, assignment_id: int, note: str, actor,
                   now: datetime | None = None) -> Assignment:
    """The regulator ends an engagement early; the auditor's access ends with it."""
    if not note.strip():
        raise field_error("reason", "may not be blank")
    now = now or timezone.now()
    assignment = lock_assignment(assignment_id)
    if not assignment.is_open:
        raise Conflict(f"assignment {assignment.pk} already ended ({assignment.end_reason})")
    return end_assignment_locked(assignment, reason=EndReason.ENDED_BY_REGULATOR,
                                 note=note.strip(), actor=actor, now=now)


def assignment_end_record(*, verified: Verified, actor, now: datetime, target: int,
                          context=None) -> Assignment:
    """The regulator's signed early end of engagement ``target`` (inside the kernel's
    recording transaction): the statement names the assignment and its release."""
    claim = verified.claim
    if claim.assignment != target:
        raise field_error("envelope.payload: predicate.assignment", f"must be {target}")
    release = lock_release(claim.release)  # the release first, as every service locks
    assignment = lock_assignment(target)
    if assignment.release_id != release.pk:
        raise field_error("envelope.payload: predicate.release",
                          f"assignment {target} is on release {assignment.release_id}")
    subject_check(verified, release_subject(release), release.pk)
    if not assignment.is_open:
        raise Conflict(f"assignment {assignment.pk} already ended ({assignment.end_reason})")
    return end_assignment_locked(assignment, reason=EndReason.ENDED_BY_REGULATOR,
                                 note=claim.reason.strip(), actor=actor, now=now,
                                 signed=verified)
