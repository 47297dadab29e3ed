"""Reads of signing keys, scoped to the acting user."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from govflow.accounts.access import is_regulator
from govflow.accounts.selectors import user_organization
from govflow.keys.models import KeyCertificate, SigningKey


def keys_visible_to(user: Any) -> QuerySet[SigningKey]:
    """Your own keys; a regulator sees everyone's (public keys are not secrets)."""
    qs = SigningKey.objects.select_related("user")
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    if is_regulator(user):
        return qs
    return qs.filter(user=user)


def key_certificates_visible_to(user: Any) -> QuerySet[KeyCertificate]:
    """A regulator sees every key certificate; a lab member those of their lab."""
    qs = KeyCertificate.objects.select_related("key", "user", "organization", "issued_by")
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    if is_regulator(user):
        return qs
    org = user_organization(user)
    return qs.filter(organization=org) if org is not None else qs.none()


def certificates_of_keys(key_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The key certificates of these keys as `tally.certified_only` reads them (issued
    and revoked as times, the order in which the server records sign-offs)."""
    rows = KeyCertificate.objects.filter(key__key_id__in=sorted(set(key_ids))).order_by("id")
    return [
        {"id": c.pk, "key_id": key_id, "user_id": c.user_id, "organization": c.organization_id,
         "role": c.role, "valid_from": c.valid_from, "valid_until": c.valid_until,
         "issued": c.issued_at, "revoked": c.revoked_at}
        for c, key_id in ((c, c.key.key_id) for c in rows.select_related("key"))
    ]
