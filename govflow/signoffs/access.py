"""Authorisation for sign-offs: see the release (else 404), then sign in its lab with
a role you hold (else 403)."""

from __future__ import annotations

from govflow.accounts.access import LAB_STAFF, holds_any_role, is_member_of, roles_of
from govflow.core.errors import PermissionDenied
from govflow.releases.access import access_release
from govflow.releases.models import Release

# Who may sign off: the lab's own roles for now. A regulator's co-signature is a role
# of another organization and will need its own rule, not a widening of this one.
SIGNING_ROLES = LAB_STAFF


def access_signoff(user, release_id: int, role: str) -> Release:
    release = access_release(user, release_id)
    if role not in SIGNING_ROLES:
        raise PermissionDenied(
            f"{role!r} is not a role that signs off; roles: {', '.join(sorted(SIGNING_ROLES))}",
            detail={"rule": "role"},
        )
    if not is_member_of(user, release.organization_id):
        raise PermissionDenied(
            "only people of the lab that owns the release sign off on it",
            detail={"rule": "lab"},
        )
    if not holds_any_role(user, (role,)):
        held = ", ".join(roles_of(user)) or "none"
        raise PermissionDenied(
            f"you do not hold the role {role!r} (your roles: {held})", detail={"rule": "role"}
        )
    return release
