from django.contrib import admin

from govflow.core.admin_base import ReadOnlyAdmin
from govflow.policy.models import PolicyVersion


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyAdmin):
    list_display = ["name", "version", "digest", "source_path", "registered_at"]
