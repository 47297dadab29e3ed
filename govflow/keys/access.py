"""Authorisation for key actions: a person manages only their own keys."""

from __future__ import annotations

from typing import Any

from govflow.accounts.access import visible_or_404
from govflow.accounts.selectors import user_organization
from govflow.core.errors import PermissionDenied
from govflow.keys.models import SigningKey


def access_key_holder(user: Any) -> None:
    """Keys are for people who act in an organization (their events are scoped to it)."""
    if user_organization(user) is None:
        raise PermissionDenied("signing keys are for members of an organization")


def access_own_key(user: Any, key_pk: int) -> SigningKey:
    # Another person's key is a 404 even for a regulator, who may list it but not
    # revoke or rotate it: only its holder knows whether the private key is lost.
    return visible_or_404(SigningKey.objects.filter(user=user), key_pk)
