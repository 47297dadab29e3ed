"""Bearer tokens for the access check, remembered per process for a few seconds.

The serving gateway calls the access check on every session with the same token; looking
it up in the database each time would cost more than the check itself. A token is
re-read after GOVFLOW_ACCESS_TOKEN_CACHE_SECONDS, so a revoked token still works on this
one read-only endpoint for at most that long (every other endpoint refuses it at once).
The rules are BearerTokenAuthentication's: unknown, revoked or expired tokens and
inactive users are refused.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from govflow.accounts.models import ApiToken, Membership
from govflow.accounts.services import token_digest


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: int
    organization_id: int | None
    organization_kind: str | None
    expires_at: datetime


_cache: dict[str, tuple[float, Caller | None]] = {}
_lock = threading.Lock()
_MAX_ENTRIES = 10_000


class TokenRefused(Exception):
    pass


def _load(digest: str) -> Caller | None:
    token = ApiToken.objects.select_related("user").filter(digest=digest).first()
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    membership = (Membership.objects.select_related("organization")
                  .filter(user_id=token.user_id).first())
    org = membership.organization if membership else None
    return Caller(user_id=token.user_id, organization_id=org.pk if org else None,
                  organization_kind=org.kind if org else None, expires_at=token.expires_at)


def caller_for(authorization: str) -> Caller:
    """The caller named by an ``Authorization: Bearer …`` header, or TokenRefused."""
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secret or " " in secret.strip():
        raise TokenRefused("send 'Authorization: Bearer <token>'")
    digest = token_digest(secret.strip())
    now = time.monotonic()
    entry = _cache.get(digest)
    if entry is None or entry[0] <= now:
        caller = _load(digest)
        with _lock:
            if len(_cache) >= _MAX_ENTRIES:
                _cache.clear()
            _cache[digest] = (now + settings.GOVFLOW_ACCESS_TOKEN_CACHE_SECONDS, caller)
    else:
        caller = entry[1]
    if caller is None:
        raise TokenRefused("Invalid or revoked token.")
    if caller.expires_at <= timezone.now():
        raise TokenRefused("Token has expired.")
    return caller


def forget_all() -> None:
    """For tests: start from an empty cache."""
    with _lock:
        _cache.clear()
