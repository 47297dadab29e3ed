from django.contrib import admin

from govflow.core.admin_base import ReadOnlyAdmin
from govflow.signoffs.models import SignOff


@admin.register(SignOff)
class SignOffAdmin(ReadOnlyAdmin):
    list_display = ["id", "release", "signer", "role", "decision", "from_stage", "target_stage",
                    "recorded_at"]
    list_filter = ["decision", "role"]
    search_fields = ["nonce", "signer__username"]
