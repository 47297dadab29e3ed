"""Rows of deployment monitoring: sources, incidents, reporting clocks, notifications and
periodic re-evaluations of systems that learn online.

Incidents, clocks and re-evaluations change only through `govflow.monitoring.services`.
Regulatory reports are append-only (migration 0002): a report filed is never edited.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from govflow.monitoring.policy import CATEGORIES, SEVERITIES

USER = settings.AUTH_USER_MODEL


def _choices(values) -> list[tuple[str, str]]:
    return [(v, v.replace("_", " ")) for v in values]


class MonitoringSource(models.Model):
    """A system watching a deployed release (abuse classifier, sandbox telemetry, …).
    Its heartbeats say it is alive; they are telemetry, not governed changes, so they
    update `last_heartbeat_at` without an audit event each."""

    release = models.ForeignKey("releases.Release", on_delete=models.PROTECT,
                                related_name="monitoring_sources")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=64, help_text="e.g. abuse_classifier, telemetry")
    registered_at = models.DateTimeField()
    registered_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["release_id", "id"]
        constraints = [models.UniqueConstraint(
            fields=["release", "name"], condition=Q(retired_at__isnull=True),
            name="monitoring_source_unique_name",
        )]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind}) on release {self.release_id}"


class IncidentStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Incident(models.Model):
    release = models.ForeignKey("releases.Release", on_delete=models.PROTECT,
                                related_name="incidents")
    source = models.ForeignKey(MonitoringSource, null=True, blank=True,
                               on_delete=models.PROTECT, related_name="incidents")
    severity = models.CharField(max_length=16, choices=_choices(SEVERITIES))
    category = models.CharField(max_length=32, choices=_choices(CATEGORIES))
    description = models.TextField()
    evidence_digests = models.JSONField(help_text="list of sha256: digests")
    detected_at = models.DateTimeField(help_text="when the lab became aware: clocks start here")
    reported_at = models.DateTimeField()
    reported_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=IncidentStatus.choices,
                              default=IncidentStatus.OPEN)
    # What the policy's response did when the incident was reported.
    response = models.JSONField(default=dict)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    resolution = models.TextField(blank=True)

    class Meta:
        ordering = ["release_id", "id"]
        indexes = [models.Index(fields=["release", "status", "severity"])]

    def __str__(self) -> str:
        return f"incident {self.pk}: {self.severity} {self.category} on release {self.release_id}"


class ClockKind(models.TextChoices):
    INITIAL = "initial", "Initial report"
    FOLLOW_UP = "follow_up", "Follow-up report"
    FINAL = "final", "Final report"


class ReportingClock(models.Model):
    """A report owed to the regulator about an incident, by a deadline."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="clocks")
    kind = models.CharField(max_length=16, choices=ClockKind.choices)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    satisfied_at = models.DateTimeField(null=True, blank=True)
    satisfied_by = models.ForeignKey("IncidentReport", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    superseded_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["incident_id", "id"]
        constraints = [models.UniqueConstraint(
            fields=["incident"], condition=Q(satisfied_at__isnull=True,
                                             superseded_at__isnull=True),
            name="reporting_clock_one_running_per_incident",
        )]

    def __str__(self) -> str:
        return f"{self.kind} report on incident {self.incident_id} due {self.due_at:%Y-%m-%d}"

    @property
    def running(self) -> bool:
        return self.satisfied_at is None and self.superseded_at is None


class IncidentReport(models.Model):
    """A report to the regulator about an incident (initial, follow-up or final)."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="reports")
    kind = models.CharField(max_length=16, choices=ClockKind.choices)
    summary = models.TextField()
    document_digest = models.CharField(max_length=71, blank=True)
    filed_at = models.DateTimeField()
    filed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["incident_id", "id"]

    def __str__(self) -> str:
        return f"{self.kind} report {self.pk} on incident {self.incident_id}"


class Notification(models.Model):
    """An outbox row: written in the transaction of the change it tells about, delivered
    afterwards by a worker (govflow.monitoring.tasks.deliver_notifications)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT,
                                     related_name="notifications")
    release = models.ForeignKey("releases.Release", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=64)
    subject = models.CharField(max_length=200)
    body = models.JSONField()
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["delivered_at", "id"])]

    def __str__(self) -> str:
        return f"{self.kind} to {self.organization_id}: {self.subject}"


class ReevaluationResult(models.TextChoices):
    PENDING = "pending", "Pending"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    MISSED = "missed", "Missed its deadline"


class Reevaluation(models.Model):
    """A periodic re-evaluation of a release whose system learns online."""

    release = models.ForeignKey("releases.Release", on_delete=models.PROTECT,
                                related_name="reevaluations")
    system_version = models.ForeignKey("systems.SystemVersion", on_delete=models.PROTECT,
                                       related_name="+")
    scheduled_at = models.DateTimeField()
    due_at = models.DateTimeField()
    result = models.CharField(max_length=16, choices=ReevaluationResult.choices,
                              default=ReevaluationResult.PENDING)
    evidence_digest = models.CharField(max_length=71, blank=True)
    summary = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")

    class Meta:
        ordering = ["release_id", "id"]
        constraints = [models.UniqueConstraint(
            fields=["release"], condition=Q(result="pending"),
            name="reevaluation_one_pending_per_release",
        )]

    def __str__(self) -> str:
        return f"re-evaluation {self.pk} of release {self.release_id}: {self.result}"
