from django.contrib import admin

from govflow.core.admin_base import ReadOnlyAdmin
from govflow.systems.models import AISystem, SystemVersion


@admin.register(AISystem)
class AISystemAdmin(ReadOnlyAdmin):
    list_display = ["name", "organization", "created_at"]


@admin.register(SystemVersion)
class SystemVersionAdmin(ReadOnlyAdmin):
    list_display = ["system", "number", "manifest_digest", "created_at"]
