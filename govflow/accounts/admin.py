from django.contrib import admin

from govflow.accounts.models import ApiToken, Membership, Organization
from govflow.core.admin_base import ReadOnlyAdmin


@admin.register(Organization)
class OrganizationAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "kind", "created_at"]
    list_filter = ["kind"]


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["user", "organization", "role", "granted_at"]
    list_filter = ["role", "organization"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["prefix", "name", "user", "created_at", "expires_at", "revoked_at"]
    exclude = ["digest"]
