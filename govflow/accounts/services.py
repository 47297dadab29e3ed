"""Changes to organizations, memberships and API tokens, each with its audit event."""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from govflow.accounts.models import ROLES_BY_KIND, ApiToken, Membership, Organization
from govflow.audit.events import EventType
from govflow.audit.services import audit_append
from govflow.core.errors import Conflict, ValidationFailed, field_error
from govflow.core.names import display_name_checked
from govflow.core.times import rfc3339

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


def _token_organization(user) -> int | None:
    # A token's events belong to its owner's organization: others must not learn who
    # holds which token (the prefix is half of what a phishing mail needs).
    return (Membership.objects.filter(user=user).values_list("organization_id", flat=True)
            .first())


@transaction.atomic
def token_issue(*, user, name: str, ttl_days: int | None = None, secret: str | None = None,
                parent: ApiToken | None = None, purpose: str = "",
                release=None) -> IssuedToken:
    """Issue a token. ``secret`` is for the demo's stable tokens; never pass it otherwise.
    ``parent`` is the token the request that asked for this one came with: the new token
    expires no later than it, and dies with it. With ``purpose`` and ``release`` it is a
    machine token (the caller checked that ``user`` may issue one for that release); its
    events belong to the release, so the release's own log shows who may file on it."""
    if not name.strip():
        raise field_error("name", "may not be blank")
    if ttl_days is not None and ttl_days < 1:
        raise field_error("ttl_days", "must be at least 1")
    now = timezone.now()
    expires_at = now + timedelta(days=ttl_days or settings.GOVFLOW_TOKEN_TTL_DAYS)
    if parent is not None:
        parent = ApiToken.objects.select_for_update().get(pk=parent.pk)
        if parent.revoked_at is not None or parent.user_id != user.pk:
            raise Conflict("the token this request came with was revoked just now",
                           detail={"rule": "token_revoked"})
        expires_at = min(expires_at, parent.expires_at)
    if bool(purpose) != (release is not None):
        raise field_error("purpose", "a machine token has both a purpose and a release")
    secret = secret or TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=secret[:10],
        digest=token_digest(secret),
        expires_at=expires_at,
        parent=parent,
        purpose=purpose,
        release=release,
    )
    scope = ({"token": token.pk, "purpose": purpose, "release": release.pk}
             if release is not None else {})
    audit_append(
        event_type=EventType.TOKEN_ISSUED,
        actor=user,
        subject=token,
        organization_id=_token_organization(user),
        release_id=release.pk if release is not None else None,
        payload={"name": name, "prefix": token.prefix, "expires_at": rfc3339(token.expires_at),
                 "parent": parent.prefix if parent is not None else None, **scope},
    )
    return IssuedToken(token=token, secret=secret)


def _descendants(token: ApiToken) -> list[ApiToken]:
    """The unrevoked tokens minted, directly or not, with ``token``, locked, by id."""
    found: list[ApiToken] = []
    frontier = [token.pk]
    while frontier:
        rows = list(ApiToken.objects.select_for_update().filter(parent_id__in=frontier)
                    .order_by("pk"))
        found += [row for row in rows if row.revoked_at is None]
        frontier = [row.pk for row in rows]
    return found


@transaction.atomic
def token_revoke(*, token_id: int, actor) -> ApiToken:
    """Revoke a token, and every token minted with it; one event per token revoked,
    scoped to the owner's organization. After commit each of
    settings.GOVFLOW_TOKEN_REVOKED_HOOKS hears the digests (the access check's token
    cache), so the very next request with the token is refused everywhere."""
    token = ApiToken.objects.select_for_update().get(pk=token_id)
    if token.revoked_at is not None:
        return token
    now = timezone.now()
    organization_id = _token_organization(token.user_id)
    revoked = [token, *_descendants(token)]
    for row in revoked:
        row.revoked_at = now
        row.save(update_fields=["revoked_at"])
        audit_append(
            event_type=EventType.TOKEN_REVOKED,
            actor=actor,
            subject=row,
            organization_id=organization_id,
            release_id=row.release_id,
            payload={"prefix": row.prefix, "revoked_at": rfc3339(now),
                     "with": token.prefix if row is not token else None,
                     **({"token": row.pk} if row.release_id is not None else {})},
        )
    digests = [row.digest for row in revoked]
    for path in settings.GOVFLOW_TOKEN_REVOKED_HOOKS:
        hook = import_string(path)
        transaction.on_commit(functools.partial(hook, digests=digests), robust=True)
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
