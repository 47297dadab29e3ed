from django.contrib import admin

from govflow.core.admin_base import ReadOnlyAdmin
from govflow.rollout.models import (
    Cohort,
    CohortMember,
    CohortSnapshot,
    Customer,
    GrowthApproval,
    KycRecord,
)


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ["id", "organization", "external_id", "display_name", "created_at"]
    search_fields = ["external_id"]


@admin.register(KycRecord)
class KycRecordAdmin(ReadOnlyAdmin):
    list_display = ["id", "customer", "provider", "level", "status", "verified_at", "expires_at"]
    list_filter = ["provider", "level", "status"]


@admin.register(Cohort)
class CohortAdmin(ReadOnlyAdmin):
    list_display = ["id", "release", "stage", "version", "created_at"]


@admin.register(CohortMember)
class CohortMemberAdmin(ReadOnlyAdmin):
    list_display = ["id", "cohort", "customer", "admitted_at", "removed_at"]


@admin.register(GrowthApproval)
class GrowthApprovalAdmin(ReadOnlyAdmin):
    list_display = ["id", "cohort", "up_to", "signer", "role", "decision", "recorded_at"]


@admin.register(CohortSnapshot)
class CohortSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["id", "cohort", "cohort_version", "size", "root", "published_at"]
