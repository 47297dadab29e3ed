"""Admin base classes: governed rows are read-only here; changes go through services."""

from __future__ import annotations

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows rows; never adds, edits or deletes them (CONVENTIONS rule 1)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
