"""Rows of third-party auditing.

Certificates, conflict declarations, assignments and access grants change only through
the services in `govflow.auditing.services`. Findings, their appended statements,
conclusions and the links between them are append-only in the database (migration
0002): a finding is never edited or deleted, only followed by newer statements, so its
current status and severity are those of its latest statement.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q

from govflow.auditing.predicates import ACCESS_LEVELS, OUTCOMES, RESULTS, SEVERITIES

USER = settings.AUTH_USER_MODEL


def _choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(v, v.replace("_", " ")) for v in values]


class CertificateStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    REVOKED = "revoked", "Revoked"


class Certificate(models.Model):
    """A regulator's signed statement that an auditor organization meets the minimum
    standard for some risk areas and access levels, within a validity window."""

    auditor = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT,
                                related_name="certificates")
    issued_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    key = models.ForeignKey("keys.SigningKey", on_delete=models.PROTECT, related_name="+")
    risk_areas = models.JSONField(help_text="list of risk area names")
    access_levels = models.JSONField(help_text="list of access levels, lowest first")
    standard = models.CharField(max_length=200, blank=True)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    nonce = models.CharField(max_length=128, unique=True)
    claimed_signed_at = models.CharField(max_length=64)
    envelope = models.JSONField(help_text="the DSSE envelope exactly as submitted")
    statement = models.JSONField()
    issued_at = models.DateTimeField()
    # Suspension and revocation: the only changes, each an audit event.
    status = models.CharField(max_length=16, choices=CertificateStatus.choices,
                              default=CertificateStatus.ACTIVE)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["auditor_id", "id"]

    def __str__(self) -> str:
        return f"certificate {self.pk} of {self.auditor_id} ({self.status})"

    def is_current_at(self, now: datetime) -> bool:
        return (self.status == CertificateStatus.ACTIVE
                and self.valid_from <= now < self.valid_until)

    def covers(self, risk_areas, access_level: str | None = None) -> bool:
        return set(risk_areas) <= set(self.risk_areas) and (
            access_level is None or access_level in self.access_levels
        )


class ConflictKind(models.TextChoices):
    FINANCIAL = "financial", "Financial tie"
    PERSONAL = "personal", "Personal tie"


class ConflictOfInterest(models.Model):
    """A tie an auditor organization declares with a lab, over a span of dates."""

    auditor = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT,
                                related_name="declared_conflicts")
    lab = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT,
                            related_name="+")
    kind = models.CharField(max_length=16, choices=ConflictKind.choices)
    description = models.TextField()
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True, help_text="empty: still ongoing")
    declared_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    declared_at = models.DateTimeField()

    class Meta:
        ordering = ["auditor_id", "id"]

    def __str__(self) -> str:
        return f"{self.auditor_id} ~ {self.lab_id} ({self.kind})"


class EndReason(models.TextChoices):
    CONCLUDED = "concluded", "Concluded by the auditor"
    ENDED_BY_REGULATOR = "ended_by_regulator", "Ended by the regulator"
    RELEASE_RETURNED = "release_returned", "The release went back to an earlier stage"


class Assignment(models.Model):
    """The regulator's assignment of an auditor to a release's third-party audit (an
    engagement). It belongs to one round: the stage entry it was made in."""

    release = models.ForeignKey("releases.Release", on_delete=models.PROTECT,
                                related_name="audit_assignments")
    stage_entry = models.ForeignKey("releases.StageTransition", on_delete=models.PROTECT,
                                    related_name="+")
    auditor = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="assignments")
    auditor_organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT,
                                             related_name="assignments")
    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="+")
    access_level = models.CharField(max_length=16, choices=_choices(ACCESS_LEVELS))
    risk_areas = models.JSONField(help_text="the release's risk areas when assigned")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    assigned_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, choices=EndReason.choices, blank=True)
    end_note = models.TextField(blank=True)

    class Meta:
        ordering = ["release_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["release", "stage_entry", "auditor"], condition=Q(ended_at__isnull=True),
                name="assignment_one_open_per_auditor_and_round",
            )
        ]

    def __str__(self) -> str:
        return f"assignment {self.pk}: user {self.auditor_id} on release {self.release_id}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class AccessGrantQuerySet(models.QuerySet):
    def in_force(self, now: datetime):
        """Grants that give access right now: unrevoked, inside their window, and backed
        by a certificate that is active and unexpired (a suspension or revocation takes
        effect at once, through this filter, without touching the grant)."""
        return self.filter(
            revoked_at__isnull=True, valid_from__lte=now, valid_until__gt=now,
            assignment__certificate__status=CertificateStatus.ACTIVE,
            assignment__certificate__valid_from__lte=now,
            assignment__certificate__valid_until__gt=now,
        )


class AccessGrant(models.Model):
    """Time-limited access of an assigned auditor to the release's system, at a level
    their certificate allows. Revoked when the engagement ends; other areas read these
    rows through `AccessGrant.objects.in_force(now)`."""

    assignment = models.OneToOneField(Assignment, on_delete=models.PROTECT, related_name="grant")
    grantee = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="access_grants")
    release = models.ForeignKey("releases.Release", on_delete=models.PROTECT, related_name="+")
    access_level = models.CharField(max_length=16, choices=_choices(ACCESS_LEVELS))
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.TextField(blank=True)

    objects = AccessGrantQuerySet.as_manager()

    class Meta:
        ordering = ["release_id", "id"]

    def __str__(self) -> str:
        return f"{self.access_level} access of user {self.grantee_id} to release {self.release_id}"


class FindingAttachment(models.Model):
    """Evidence for a finding, uploaded before the finding names it by SHA-256."""

    release = models.ForeignKey("releases.Release", on_delete=models.PROTECT, related_name="+")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    name = models.CharField(max_length=255)
    media_type = models.CharField(max_length=100)
    file = models.FileField(upload_to="finding-attachments/", max_length=300)
    uploaded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["release_id", "id"]
        constraints = [models.UniqueConstraint(fields=["release", "sha256"],
                                               name="finding_attachment_unique_per_release")]

    def __str__(self) -> str:
        return f"{self.name} (sha256:{self.sha256[:12]}…)"


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    LAB_RESPONDED = "lab_responded", "Lab responded"
    RISK_ACCEPTANCE_REQUESTED = "risk_acceptance_requested", "Risk acceptance requested"
    DISPUTED = "disputed", "Disputed"
    ESCALATED = "escalated", "Escalated to the regulator"
    RESOLVED = "resolved", "Resolved"
    RISK_ACCEPTED = "risk_accepted", "Risk accepted"


CLOSED_STATUSES = frozenset({FindingStatus.RESOLVED, FindingStatus.RISK_ACCEPTED})


class _Signed(models.Model):
    """What every signed auditing statement keeps: who signed it with which key, the
    envelope as submitted and the statement it carries."""

    key = models.ForeignKey("keys.SigningKey", on_delete=models.PROTECT, related_name="+")
    nonce = models.CharField(max_length=128, unique=True)
    claimed_signed_at = models.CharField(
        max_length=64, help_text="the signer's claimed signing time, as signed; not trusted"
    )
    envelope = models.JSONField(help_text="the DSSE envelope exactly as submitted")
    statement = models.JSONField(help_text="the decoded in-toto statement")

    class Meta:
        abstract = True


class Finding(_Signed):
    release = models.ForeignKey("releases.Release", on_delete=models.PROTECT,
                                related_name="findings")
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="findings")
    auditor = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    auditor_organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT,
                                             related_name="+")
    title = models.CharField(max_length=200)
    severity = models.CharField(max_length=16, choices=_choices(SEVERITIES))
    category = models.CharField(max_length=64)
    description = models.TextField()
    reproduction_steps = models.JSONField()
    attachments = models.ManyToManyField(FindingAttachment, related_name="findings", blank=True)
    filed_at = models.DateTimeField()

    class Meta:
        ordering = ["release_id", "id"]

    def __str__(self) -> str:
        return f"finding {self.pk} ({self.severity}) on release {self.release_id}"


class FindingStatement(_Signed):
    """A statement appended to a finding: the status (and severity) it leaves behind."""

    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="statements")
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    author_organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT,
                                            related_name="+")
    action = models.CharField(max_length=16)
    text = models.TextField()
    outcome = models.CharField(max_length=16, choices=_choices(OUTCOMES), blank=True)
    status_from = models.CharField(max_length=32, choices=FindingStatus.choices)
    status_to = models.CharField(max_length=32, choices=FindingStatus.choices)
    severity_after = models.CharField(max_length=16, choices=_choices(SEVERITIES))
    attachments = models.ManyToManyField(FindingAttachment, related_name="statements",
                                         blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["finding_id", "id"]

    def __str__(self) -> str:
        return f"{self.action} on finding {self.finding_id}: {self.status_from} → {self.status_to}"


class Conclusion(_Signed):
    """The auditor's signed conclusion; it closes the engagement."""

    assignment = models.OneToOneField(Assignment, on_delete=models.PROTECT,
                                      related_name="conclusion")
    release = models.ForeignKey("releases.Release", on_delete=models.PROTECT,
                                related_name="audit_conclusions")
    auditor = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    result = models.CharField(max_length=32, choices=_choices(RESULTS))
    summary = models.TextField()
    conditions = models.JSONField()
    findings = models.ManyToManyField(Finding, related_name="conclusions", blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["release_id", "id"]

    def __str__(self) -> str:
        return f"conclusion {self.pk}: {self.result} (assignment {self.assignment_id})"

