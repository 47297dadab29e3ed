from axes.models import AccessAttempt
from django.contrib import admin

from govflow.accounts.models import ApiToken, Membership, Organization
from govflow.accounts.signin import signin_unlock
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


@admin.register(AccessAttempt)
class SignInLockoutAdmin(ReadOnlyAdmin):
    """Failed sign-ins per account and address (django-axes); unlocking is the action
    below, which logs it, rather than a delete."""

    list_display = ["username", "ip_address", "failures_since_start", "attempt_time", "path_info"]
    search_fields = ["username", "ip_address"]
    exclude = ["post_data", "get_data"]
    actions = ["unlock"]

    @admin.action(description="Unlock (audited)")
    def unlock(self, request, queryset):
        lifted = 0
        for attempt in queryset.order_by("pk"):
            lifted += signin_unlock(username=attempt.username, address=attempt.ip_address,
                                    actor=request.user)
        self.message_user(request, f"unlocked {lifted} lockout record(s)")
