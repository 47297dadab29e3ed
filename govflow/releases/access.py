"""Authorisation for release actions: see first (else 404), then role (else 403)."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import Http404

from govflow.accounts.selectors import user_organization, user_roles
from govflow.core.errors import PermissionDenied
from govflow.releases.models import Release
from govflow.releases.selectors import releases_visible_to


def access_release(user, release_id: int) -> Release:
    release = releases_visible_to(user).filter(pk=release_id).first()
    if release is None:
        raise Http404
    return release


def access_release_action(user, release_id: int, roles: Iterable[str]) -> Release:
    """A release the user's own lab owns, and the user holds one of ``roles``."""
    release = access_release(user, release_id)
    org = user_organization(user)
    roles = set(roles)
    if org is None or org.pk != release.organization_id or not roles & user_roles(user):
        raise PermissionDenied(
            "this action needs one of these roles in the lab that owns the release: "
            + ", ".join(sorted(roles))
        )
    return release
