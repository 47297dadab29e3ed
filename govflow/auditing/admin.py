from django.contrib import admin

from govflow.auditing.models import (
    AccessGrant,
    Assignment,
    Certificate,
    Conclusion,
    ConflictOfInterest,
    Finding,
    FindingStatement,
)
from govflow.core.admin_base import ReadOnlyAdmin


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ["id", "auditor", "status", "valid_from", "valid_until", "issued_by"]
    list_filter = ["status"]


@admin.register(ConflictOfInterest)
class ConflictAdmin(ReadOnlyAdmin):
    list_display = ["id", "auditor", "lab", "kind", "starts_on", "ends_on"]


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ["id", "release", "auditor", "auditor_organization", "access_level",
                    "starts_at", "ends_at", "ended_at", "end_reason"]


@admin.register(AccessGrant)
class AccessGrantAdmin(ReadOnlyAdmin):
    list_display = ["id", "grantee", "release", "access_level", "valid_until", "revoked_at"]


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = ["id", "release", "auditor", "severity", "title", "filed_at"]
    list_filter = ["severity"]


@admin.register(FindingStatement)
class FindingStatementAdmin(ReadOnlyAdmin):
    list_display = ["id", "finding", "author", "action", "status_from", "status_to",
                    "recorded_at"]


@admin.register(Conclusion)
class ConclusionAdmin(ReadOnlyAdmin):
    list_display = ["id", "release", "auditor", "result", "recorded_at"]
