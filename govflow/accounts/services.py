"""Changes to organizations, memberships and API tokens, each with its audit event."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from govflow.accounts.models import ROLES_BY_KIND, ApiToken, Membership, Organization
from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.core.errors import Conflict, ValidationFailed
from govflow.core.names import display_name_checked

TOKEN_PREFIX = "gf_"


def token_digest(secret: str) -> str:
    # Tokens carry 256 bits of randomness, so a fast hash is enough: there is
    # nothing to brute-force the way there is with a password.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@transaction.atomic
def organization_create(*, name: str, slug: str, kind: str, actor=None) -> Organization:
    if kind not in ROLES_BY_KIND:
        raise ValidationFailed(f"unknown organization kind {kind!r}")
    display_name_checked(name, path="name")
    if Organization.objects.filter(slug=slug).exists():
        raise Conflict(f"an organization with slug {slug!r} already exists")
    org = Organization.objects.create(name=name, slug=slug, kind=kind)
    audit_append(
        event_type=EventType.ORGANIZATION_CREATED,
        actor=actor,
        subject=org,
        organization_id=org.pk,
        payload={"name": name, "slug": slug, "kind": kind},
    )
    return org


@transaction.atomic
def membership_grant(*, user, organization: Organization, role: str, actor=None) -> Membership:
    if role not in ROLES_BY_KIND[organization.kind]:
        raise ValidationFailed(
            f"role {role!r} cannot be held in a {organization.kind} organization; "
            f"allowed: {', '.join(sorted(ROLES_BY_KIND[organization.kind]))}"
        )
    other = Membership.objects.filter(user=user).exclude(organization=organization).first()
    if other is not None:
        raise Conflict(f"{user} already belongs to {other.organization.slug}")
    membership, created = Membership.objects.get_or_create(
        user=user, role=role, defaults={"organization": organization}
    )
    if created:
        audit_append(
            event_type=EventType.MEMBERSHIP_GRANTED,
            actor=actor,
            subject=membership,
            organization_id=organization.pk,
            payload={"user": user.get_username(), "role": role},
        )
    return membership


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


@transaction.atomic
def token_issue(*, user, name: str, ttl_days: int | None = None, secret: str | None = None):
    """Issue a token. ``secret`` is for the demo's stable tokens; never pass it otherwise."""
    ttl = timedelta(days=ttl_days or settings.GOVFLOW_TOKEN_TTL_DAYS)
    secret = secret or TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=secret[:10],
        digest=token_digest(secret),
        expires_at=timezone.now() + ttl,
    )
    membership = Membership.objects.filter(user=user).first()
    audit_append(
        event_type=EventType.TOKEN_ISSUED,
        actor=user,
        subject=token,
        organization_id=membership.organization_id if membership else None,
        payload={"name": name, "prefix": token.prefix, "expires_at": token.expires_at.isoformat()},
    )
    return IssuedToken(token=token, secret=secret)


@transaction.atomic
def token_revoke(*, token_id: int, actor) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token_id)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_append(
            event_type=EventType.TOKEN_REVOKED,
            actor=actor,
            subject=token,
            payload={"prefix": token.prefix},
        )
    return token


def user_create(*, username: str, password: str | None = None, email: str = ""):
    User = get_user_model()
    user = User(username=username, email=email)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return user
