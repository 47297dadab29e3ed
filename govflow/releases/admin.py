"""Release admin: read-only rows plus an "advance" action that calls the service."""

from __future__ import annotations

from django.contrib import admin, messages

from govflow.accounts.access import has_lab_role
from govflow.accounts.models import Role
from govflow.core.admin_base import ReadOnlyAdmin
from govflow.core.errors import DomainError, GateNotMet
from govflow.releases.models import EvidenceDocument, Release, StageTransition
from govflow.releases.selectors import releases_visible_to
from govflow.releases.services import release_advance


class TransitionInline(admin.TabularInline):
    model = StageTransition
    fields = readonly_fields = ("kind", "from_stage", "to_stage", "actor", "at", "reason")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Release)
class ReleaseAdmin(ReadOnlyAdmin):
    list_display = ["title", "organization", "stage", "status", "version", "opened_at"]
    list_filter = ["stage", "status", "organization"]
    inlines = [TransitionInline]
    actions = ["advance_selected"]

    def get_queryset(self, request):
        # Superusers operate the deployment; everyone else sees what the API shows them.
        if request.user.is_superuser:
            return super().get_queryset(request)
        return releases_visible_to(request.user)

    @admin.action(description="Advance to the next stage (if every gate is met)")
    def advance_selected(self, request, queryset):
        for release in queryset:
            if not has_lab_role(request.user, release.organization_id, {Role.RELEASE_MANAGER}):
                self.message_user(
                    request, f"{release}: you are not a release manager of its lab",
                    messages.ERROR,
                )
                continue
            try:
                transition = release_advance(release_id=release.pk, actor=request.user)
            except GateNotMet as exc:
                unmet = [
                    f"{g['id']}: {g['reason']}"
                    for g in exc.detail["gate_report"]["gates"] if not g["met"]
                ]
                self.message_user(
                    request, f"{release.title}: not advanced — " + "; ".join(unmet),
                    messages.WARNING,
                )
            except DomainError as exc:
                self.message_user(request, f"{release.title}: {exc.message}", messages.ERROR)
            else:
                self.message_user(
                    request, f"{release.title}: advanced to {transition.to_stage}",
                    messages.SUCCESS,
                )


@admin.register(EvidenceDocument)
class EvidenceDocumentAdmin(ReadOnlyAdmin):
    list_display = ["name", "document_type", "release", "sha256", "size", "uploaded_at"]
