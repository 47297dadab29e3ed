"""Reads about who a user is: their organization and roles."""

from __future__ import annotations

from typing import Any

from govflow.accounts.models import ApiToken, Membership, Organization, OrganizationKind


def user_organization(user: Any) -> Organization | None:
    """The organization a user belongs to, cached on the user object per request."""
    if not getattr(user, "is_authenticated", False):
        return None
    cached: Organization | None | bool = getattr(user, "_govflow_org", False)
    if not isinstance(cached, bool):
        return cached
    membership = Membership.objects.select_related("organization").filter(user=user).first()
    org = membership.organization if membership else None
    user._govflow_org = org
    return org


def user_roles(user: Any) -> frozenset[str]:
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_govflow_roles", None)
    if cached is None:
        cached = frozenset(Membership.objects.filter(user=user).values_list("role", flat=True))
        user._govflow_roles = cached
    return cached


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
