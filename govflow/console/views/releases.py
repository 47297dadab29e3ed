"""Releases: the list and one release."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required

from govflow.console.selectors import release_list, release_page
from govflow.console.views.base import page


@login_required
def releases(request):
    q = request.GET
    context = release_list(request.user, lab=q.get("lab", ""), stage=q.get("stage", ""),
                           status=q.get("status", ""), page=q.get("page", 1))
    return page(request, "releases.html", context)


@login_required
def release(request, pk: int):
    return page(request, "release.html", release_page(request.user, pk))
