"""Reads about who a user is: their organization and roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from govflow.accounts.models import ApiToken, Membership, Organization, OrganizationKind


@dataclass(frozen=True)
class Identity:
    """Who a user is to govflow: their organization and their roles in it."""

    organization: Organization | None
    roles: frozenset[str]


_NOBODY = Identity(None, frozenset())
_MEMO = "_govflow_identity"


def user_identity(user: Any) -> Identity:
    """The user's organization and roles, read in one query and remembered on the user
    object. The API authenticates each request afresh (a new user object), so this is a
    per-request memo: a membership granted or removed counts from the next request on.
    The access layer and the kernel read it through `user_organization` / `user_roles`."""
    if not getattr(user, "is_authenticated", False):
        return _NOBODY
    cached: Identity | None = getattr(user, _MEMO, None)
    if cached is None:
        # All of a user's memberships are in one organization (Membership's rule).
        memberships = list(Membership.objects.select_related("organization").filter(user=user))
        cached = Identity(memberships[0].organization if memberships else None,
                          frozenset(m.role for m in memberships))
        setattr(user, _MEMO, cached)
    return cached


def identity_remember(user: Any, *, organization: Organization | None,
                      roles: frozenset[str]) -> None:
    """Remember who ``user`` is, as read by a query that also read something else (the
    bearer token's, `accounts.authentication.token_with_holder`)."""
    setattr(user, _MEMO, Identity(organization, roles))


def user_organization(user: Any) -> Organization | None:
    return user_identity(user).organization


def user_roles(user: Any) -> frozenset[str]:
    return user_identity(user).roles


def organizations_visible_to(user):
    """Regulators see every organization; others see their own only."""
    org = user_organization(user)
    if org is None:
        return Organization.objects.none()
    if org.kind == OrganizationKind.REGULATOR:
        return Organization.objects.all()
    return Organization.objects.filter(pk=org.pk)


def tokens_of(user):
    """A person's own API tokens; nobody else's, not even a regulator's to see. Machine
    tokens are the release's (`machine_tokens_of`), listed and revoked there."""
    if not getattr(user, "is_authenticated", False):
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user, purpose="").order_by("-created_at", "-id")


def machine_tokens_of(release_id: int):
    """The machine tokens issued for a release (the caller checked it may see them)."""
    return ApiToken.objects.filter(release_id=release_id).exclude(purpose="").select_related(
        "user").order_by("-created_at", "-id")
