"""Whether an auditor may act right now: an open engagement, access in force, and a
certificate that is active and unexpired. Read inside the acting transaction, so a
suspension or revocation committed before that point refuses the action."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import F

from govflow.auditing.models import AccessGrant, Assignment, Certificate, CertificateStatus
from govflow.auditing.selectors import covering_certificate
from govflow.core.errors import Conflict, NotFound, PermissionDenied
from govflow.core.times import rfc3339_or_none
from govflow.keys.models import SigningKey
from govflow.releases.models import Release
from govflow.systems.models import SystemVersion


def iso(moment: datetime | None) -> str | None:
    return rfc3339_or_none(moment)


def _refuse(rule: str, message: str) -> PermissionDenied:
    return PermissionDenied(message, detail={"rule": rule})


def certificate_refusal(certificate: Certificate, now: datetime) -> PermissionDenied | None:
    if certificate.status == CertificateStatus.SUSPENDED:
        return _refuse("certificate_suspended",
                       f"certificate {certificate.pk} was suspended at "
                       f"{iso(certificate.status_changed_at)}: {certificate.status_reason}")
    if certificate.status == CertificateStatus.REVOKED:
        return _refuse("certificate_revoked",
                       f"certificate {certificate.pk} was revoked at "
                       f"{iso(certificate.status_changed_at)}: {certificate.status_reason}")
    if not certificate.valid_from <= now < certificate.valid_until:
        return _refuse("certificate_expired",
                       f"certificate {certificate.pk} is valid from {iso(certificate.valid_from)} "
                       f"until {iso(certificate.valid_until)}, not now")
    return None


def require_certified(assignment: Assignment, now: datetime) -> None:
    """The auditor's firm holds a current certificate for the engagement's risk areas:
    the one it was assigned under, or a newer one."""
    refusal = certificate_refusal(Certificate.objects.get(pk=assignment.certificate_id), now)
    if refusal is not None and covering_certificate(
        assignment.auditor_organization, risk_areas=assignment.risk_areas, access_level=None,
        now=now, until=now,
    ) is None:
        raise refusal


@dataclass(frozen=True)
class Engagement:
    """An engagement in force, as the acting service needs it."""

    assignment_id: int
    auditor_organization_id: int
    release_id: int
    lab_id: int
    subject: tuple[str, str]  # (subject name, manifest digest) of the release's system


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _in_force_sql(*, lock: bool, key: bool) -> str:
    # The filters are `AccessGrant.objects.in_force` (tests/auditing/test_standing.py checks
    # the two agree), joined to what filing needs, plus (``key``) the signer's key still
    # usable. One hand-written query: filing is what machine clients do at volume, and
    # compiling the equivalent ORM query costs several times more than running it.
    key_usable = (
        f"(SELECT COUNT(*) FROM {_table(SigningKey)} k WHERE k.id = %s AND k.revoked_at IS NULL "
        "AND (k.expires_at IS NULL OR k.expires_at > %s)) " if key else "1 "
    )
    sql = (
        "SELECT a.id, a.auditor_organization_id, r.id, r.organization_id, v.system_id, "
        f"v.number, v.manifest_digest, {key_usable}"
        f"FROM {_table(Assignment)} a "
        f"JOIN {_table(AccessGrant)} g ON g.assignment_id = a.id "
        f"JOIN {_table(Certificate)} c ON c.id = a.certificate_id "
        f"JOIN {_table(Release)} r ON r.id = a.release_id "
        f"JOIN {_table(SystemVersion)} v ON v.id = r.system_version_id "
        "WHERE a.release_id = %s AND a.auditor_id = %s AND a.ended_at IS NULL "
        "AND g.revoked_at IS NULL AND g.valid_from <= %s AND g.valid_until > %s "
        "AND c.status = %s AND c.valid_from <= %s AND c.valid_until > %s "
        "ORDER BY a.id DESC"
    )
    sql += " LIMIT 1"
    if lock and connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF a"
    return sql


def engagement_in_force(*, release_id: int, auditor, now: datetime, lock: bool = False,
                        key: SigningKey | None = None) -> Engagement:
    """The auditor's open assignment on the release with its access grant in force.
    ``lock`` takes the assignment's row lock (filing and concluding serialise on it, so a
    finding cannot slip past the conclusion that must list it). With ``key``, the key is
    re-read too: a revocation committed since the signature was checked wins."""
    at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        params: list[Any] = [key.pk, at] if key is not None else []
        cursor.execute(_in_force_sql(lock=lock, key=key is not None), [
            *params, release_id, auditor.pk, at, at, CertificateStatus.ACTIVE.value, at, at,
        ])
        row = cursor.fetchone()
    if row is None:
        _refuse_engagement(release_id, auditor, now)
    assignment_id, org_id, release, lab_id, system_id, number, digest, key_usable = row
    if key is not None and not key_usable:
        raise Conflict(f"key {key.key_id} was revoked or expired just now; sign again",
                       detail={"rule": "key_revoked"})
    return Engagement(assignment_id=assignment_id, auditor_organization_id=org_id,
                      release_id=release, lab_id=lab_id,
                      subject=(f"govflow:system/{system_id}/v{number}", digest))


def _refuse_engagement(release_id: int, auditor, now: datetime):
    """Only a refusal pays for finding out why there is no engagement in force."""
    assignment = (Assignment.objects.filter(release_id=release_id, auditor=auditor)
                  .select_related("certificate")
                  .order_by(F("ended_at").asc(nulls_first=True), "-id").first())
    if assignment is None:
        # Never assigned: the release does not exist for them (releases_visible_to).
        raise NotFound(f"release {release_id} does not exist")
    if not assignment.is_open:
        raise _refuse("not_assigned", f"you have no open engagement on release {release_id}")
    refusal = certificate_refusal(assignment.certificate, now)
    if refusal is not None:
        raise refusal
    raise _refuse("engagement_over",
                  f"your access to release {release_id} ran from {iso(assignment.starts_at)} "
                  f"to {iso(assignment.ends_at)}; it is not in force now")
