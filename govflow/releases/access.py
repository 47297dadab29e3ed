"""Authorisation for release actions: see first (else 404), then role (else 403)."""

from __future__ import annotations

from collections.abc import Iterable

from govflow.accounts.access import require_lab_role, visible_or_404
from govflow.releases.models import Release
from govflow.releases.selectors import releases_visible_to


def access_release(user, release_id: int) -> Release:
    return visible_or_404(releases_visible_to(user), release_id)


def access_release_action(user, release_id: int, roles: Iterable[str]) -> Release:
    """A release the user's own lab owns, and the user holds one of ``roles``."""
    release = access_release(user, release_id)
    require_lab_role(user, release.organization_id, roles)
    return release
