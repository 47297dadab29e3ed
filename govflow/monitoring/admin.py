from django.contrib import admin

from govflow.core.admin_base import ReadOnlyAdmin
from govflow.monitoring.models import (
    Incident,
    IncidentReport,
    MonitoringSource,
    Notification,
    Reevaluation,
    ReportingClock,
)


@admin.register(MonitoringSource)
class MonitoringSourceAdmin(ReadOnlyAdmin):
    list_display = ["id", "release", "name", "kind", "last_heartbeat_at", "retired_at"]


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ["id", "release", "severity", "category", "status", "reported_at"]
    list_filter = ["severity", "category", "status"]


@admin.register(ReportingClock)
class ReportingClockAdmin(ReadOnlyAdmin):
    list_display = ["id", "incident", "kind", "due_at", "satisfied_at", "overdue_at"]


@admin.register(IncidentReport)
class IncidentReportAdmin(ReadOnlyAdmin):
    list_display = ["id", "incident", "kind", "filed_at", "filed_by"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["id", "organization", "kind", "subject", "created_at", "delivered_at"]


@admin.register(Reevaluation)
class ReevaluationAdmin(ReadOnlyAdmin):
    list_display = ["id", "release", "scheduled_at", "due_at", "result", "completed_at"]
