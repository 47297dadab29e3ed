from django.contrib import admin

from govflow.core.admin_base import ReadOnlyAdmin
from govflow.oversight.models import RegulatoryHold, Sanction, SignedAction


@admin.register(RegulatoryHold)
class RegulatoryHoldAdmin(ReadOnlyAdmin):
    list_display = ["id", "release", "placed_by", "placed_at", "lifted_at"]


@admin.register(Sanction)
class SanctionAdmin(ReadOnlyAdmin):
    list_display = ["id", "lab", "stage", "min_training_compute_flop", "until", "lifted_at"]


@admin.register(SignedAction)
class SignedActionAdmin(ReadOnlyAdmin):
    list_display = ["id", "predicate_type", "action", "signer", "recorded_at"]

# Whistleblower reports are deliberately not in the admin: staff with admin access are
# not necessarily regulators, and only regulators read reports (the console's inbox).
