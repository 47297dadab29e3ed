from django.contrib import admin

from govflow.core.admin_base import ReadOnlyAdmin
from govflow.keys.models import SigningKey


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    list_display = ["key_id", "user", "name", "created_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["key_id", "user__username", "name"]
