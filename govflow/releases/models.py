"""Releases, their stage transitions and the evidence attached to them.

Only the services in `govflow.releases.services` write these rows (CONVENTIONS
rule 1); the admin shows them read-only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ReleaseStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    HALTED = "halted", "Halted"
    COMPLETED = "completed", "Completed"


class TransitionKind(models.TextChoices):
    OPEN = "open", "Opened"
    ADVANCE = "advance", "Advanced"
    ROLLBACK = "rollback", "Rolled back"


class Release(models.Model):
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="releases"
    )
    system_version = models.ForeignKey(
        "systems.SystemVersion", on_delete=models.PROTECT, related_name="releases"
    )
    policy = models.ForeignKey("policy.PolicyVersion", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    stage = models.CharField(max_length=64)
    status = models.CharField(
        max_length=16, choices=ReleaseStatus.choices, default=ReleaseStatus.ACTIVE
    )
    # Incremented by every change; the API's ETag, so a client acting on what it saw
    # gets 412 when someone else changed the release in between.
    version = models.PositiveIntegerField(default=1)
    stage_entered_at = models.DateTimeField()
    opened_at = models.DateTimeField()
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["organization", "stage", "status"])]

    def __str__(self) -> str:
        return f"{self.title} [{self.stage}/{self.status}]"

    @property
    def etag(self) -> str:
        return f'"{self.pk}-{self.version}"'


class StageTransition(models.Model):
    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="transitions")
    kind = models.CharField(max_length=16, choices=TransitionKind.choices)
    from_stage = models.CharField(max_length=64, blank=True)
    to_stage = models.CharField(max_length=64)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    policy_digest = models.CharField(max_length=71)
    gate_report = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["release_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.release_id}: {self.from_stage or '∅'} → {self.to_stage} ({self.kind})"


class EvidenceDocument(models.Model):
    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="evidence")
    document_type = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    media_type = models.CharField(max_length=100)
    # Content-addressed path under MEDIA_ROOT; the bytes are re-hashed on upload.
    file = models.FileField(upload_to="evidence/", max_length=300)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["release_id", "uploaded_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["release", "document_type", "sha256"], name="evidence_unique_per_release"
            )
        ]

    def __str__(self) -> str:
        return f"{self.document_type}: {self.name} (sha256:{self.sha256[:12]}…)"
