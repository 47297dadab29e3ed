"""The audit trail and the checkpoint history."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required

from govflow.accounts.access import not_found
from govflow.console.trail import audit_trail, checkpoint_history
from govflow.console.views.base import page


@login_required
def trail(request):
    raw = request.GET.get("release", "")
    if raw and not raw.isdigit():
        not_found()
    context = audit_trail(request.user, release_id=int(raw) if raw else None,
                          event_type=request.GET.get("type", ""),
                          before=request.GET.get("before"))
    return page(request, "audit.html", context)


@login_required
def checkpoints(request):
    return page(request, "checkpoints.html", checkpoint_history(page=request.GET.get("page", 1)))
