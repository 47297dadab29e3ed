from django.contrib import admin

from govflow.audit.models import AuditEvent
from govflow.core.admin_base import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "event_type", "created_at", "actor", "release_id", "subject_type",
                    "subject_id"]
    list_filter = ["event_type"]
    search_fields = ["uuid", "subject_id"]
