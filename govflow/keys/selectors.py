"""Reads of signing keys, scoped to the acting user."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from govflow.accounts.access import is_regulator
from govflow.keys.models import SigningKey


def keys_visible_to(user: Any) -> QuerySet[SigningKey]:
    """Your own keys; a regulator sees everyone's (public keys are not secrets)."""
    qs = SigningKey.objects.select_related("user")
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    if is_regulator(user):
        return qs
    return qs.filter(user=user)
