"""Bearer tokens for the access check, remembered per process for a few seconds.

The serving gateway calls the access check on every session with the same token; looking
it up in the database each time would cost more than the check itself. A token is
re-read after GOVFLOW_ACCESS_TOKEN_CACHE_SECONDS, and at once whenever the generation of
credentials in the shared access cache (`cache.credentials_generation`) is no longer the
one seen when it was read: revoking any token replaces that generation after commit
(`on_tokens_revoked`), so a revoked token is refused by every process on the very next
request. The generation travels in the round trip a customer check makes anyway, so
that costs nothing on a hit. The rules are BearerTokenAuthentication's: unknown, revoked
or expired tokens and inactive users are refused.
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
from govflow.rollout import cache


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: int
    organization_id: int | None
    organization_kind: str | None
    expires_at: datetime
    generation: str | None  # of credentials, read before the token was (None: unknown)


_cache: dict[str, tuple[float, Caller | None]] = {}
_lock = threading.Lock()
_MAX_ENTRIES = 10_000


class TokenRefused(Exception):
    pass


def _load(digest: str) -> Caller | None:
    # The generation first: a revocation committing while the token is read replaces it,
    # and the next request sees the change and reads the token again.
    generation = cache.credentials_generation()
    token = ApiToken.objects.select_related("user").filter(digest=digest).first()
    if (token is None or token.revoked_at is not None or not token.user.is_active
            or token.purpose):
        # A machine token (one release, one purpose: govflow.accounts.machine) is not a
        # gateway's credential for the access check.
        return None
    membership = (Membership.objects.select_related("organization")
                  .filter(user_id=token.user_id).first())
    org = membership.organization if membership else None
    return Caller(user_id=token.user_id, organization_id=org.pk if org else None,
                  organization_kind=org.kind if org else None, expires_at=token.expires_at,
                  generation=generation)


def _digest_of(authorization: str) -> str:
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secret or " " in secret.strip():
        raise TokenRefused("send 'Authorization: Bearer <token>'")
    return token_digest(secret.strip())


def caller_for(authorization: str, *, generation: str | None | bool = False) -> Caller:
    """The caller named by an ``Authorization: Bearer …`` header, or TokenRefused.
    With ``generation`` (the credentials generation just read from the shared cache, or
    None if it could not be), a remembered token is used only if it was read under that
    same generation; otherwise it is read again."""
    digest = _digest_of(authorization)
    now = time.monotonic()
    entry = _cache.get(digest)
    stale = (generation is not False and entry is not None and entry[1] is not None
             and (generation is None or entry[1].generation != generation))
    if entry is None or entry[0] <= now or stale:
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


def on_tokens_revoked(*, digests: list[str]) -> None:
    """settings.GOVFLOW_TOKEN_REVOKED_HOOKS: tokens were revoked and committed. This
    process forgets them; every other process sees the new generation on its next check."""
    with _lock:
        for digest in digests:
            _cache.pop(digest, None)
    cache.invalidate_credentials()


def forget_all() -> None:
    """For tests: start from an empty cache."""
    with _lock:
        _cache.clear()
