"""The access-check cache: decisions kept until something says they changed.

A decision for (release, customer) is stored with the *generation tokens* of the release
and of the customer that were current when it was computed, and it is served only while
both tokens are still current. Invalidation replaces a token with a new random one (a
pause, resume, halt, rollback or advance replaces the release's; an admission, removal,
KYC result or KYC expiry the customer's), so every decision computed before is dead at
once, in one cache write, however many there were.

Why tokens and not deletes: a check that read the database just before a pause commits
would otherwise write its stale "allow" back after the pause deleted the key, and it
would live forever. A check reads the tokens *before* it reads the database; if a pause
commits in between, the token moves on and the stale decision is written under the old
one, where nobody looks. Random tokens rather than counters, so a token lost with an
evicted key can never come back and revive an old decision.

A decision that rests on a KYC record also carries that record's expiry and is not served
past it, even before the beat task that processes expiries gets round to it. Entries time
out after GOVFLOW_ACCESS_CACHE_MAX_AGE only to bound memory and as a backstop for an
invalidation lost with a Redis outage; correctness never waits for that timeout. Run the
cache's Redis without persistence: one restored from a snapshot older than a pause would
bring back the token the pause replaced, and with it the decisions made before.

If the cache is unreachable a check is answered from the database (slower, never stale).
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CachedDecision:
    allow: bool
    reason: str
    organization_id: int
    stage: str
    until: float | None  # Unix time after which the decision must be recomputed
    release_token: str
    customer_token: str


@dataclass(frozen=True, slots=True)
class Tokens:
    release: str
    customer: str
    # The generation of API credentials: replaced when any API token is revoked, so each
    # process's remembered bearer tokens (govflow.rollout.tokens) are re-read at once.
    credentials: str


def _cache():
    return caches[settings.GOVFLOW_ACCESS_CACHE_ALIAS]


def _release_key(release_id: int) -> str:
    return f"acc:r:{release_id}"


def _customer_key(external_id: str) -> str:
    return f"acc:c:{external_id}"


_CREDENTIALS_KEY = "acc:t"


def _decision_key(release_id: int, external_id: str) -> str:
    return f"acc:d:{release_id}:{external_id}"


def _new_token() -> str:
    return secrets.token_hex(8)


def _current(cache, key: str, found: str | None) -> str:
    if found is not None:
        return found
    # No token yet (or evicted): install one before the database is read, so that an
    # invalidation racing with this check replaces it and strands what we compute.
    token = _new_token()
    if cache.add(key, token, timeout=None):
        return token
    return cache.get(key) or token


def lookup(release_id: int, external_id: str) -> tuple[CachedDecision | None, Tokens | None]:
    """One round trip: the decision and both tokens. (None, None) if the cache is down."""
    cache = _cache()
    keys = (_release_key(release_id), _customer_key(external_id),
            _decision_key(release_id, external_id), _CREDENTIALS_KEY)
    try:
        found = cache.get_many(keys)
        tokens = Tokens(_current(cache, keys[0], found.get(keys[0])),
                        _current(cache, keys[1], found.get(keys[1])),
                        _current(cache, keys[3], found.get(keys[3])))
    except Exception:  # noqa: BLE001 (any cache failure: answer from the database)
        log.warning("access cache unavailable; answering from the database", exc_info=True)
        return None, None
    hit = found.get(keys[2])
    if (isinstance(hit, CachedDecision) and hit.release_token == tokens.release
            and hit.customer_token == tokens.customer
            and (hit.until is None or time.time() < hit.until)):
        return hit, tokens
    return None, tokens


def credentials_generation() -> str | None:
    """The current generation of API credentials (one round trip), or None if the cache
    is down (then nothing remembered about a token may be trusted)."""
    cache = _cache()
    try:
        return _current(cache, _CREDENTIALS_KEY, cache.get(_CREDENTIALS_KEY))
    except Exception:  # noqa: BLE001
        log.warning("access cache unavailable; re-reading tokens", exc_info=True)
        return None


def invalidate_credentials() -> None:
    _invalidate(_CREDENTIALS_KEY)


def store(release_id: int, external_id: str, decision: CachedDecision) -> None:
    try:
        _cache().set(_decision_key(release_id, external_id), decision,
                     timeout=settings.GOVFLOW_ACCESS_CACHE_MAX_AGE)
    except Exception:  # noqa: BLE001
        log.warning("access cache unavailable; decision not cached", exc_info=True)


def _replace(key: str) -> None:
    _cache().set(key, _new_token(), timeout=None)


def invalidate_release(release_id: int) -> None:
    _invalidate(_release_key(release_id))


def invalidate_customers(external_ids) -> None:
    for external_id in external_ids:
        _invalidate(_customer_key(external_id))


def _invalidate(key: str) -> None:
    try:
        _replace(key)
    except Exception:  # noqa: BLE001
        # The change has committed; the cache must still hear of it. Retry from a worker
        # (and entries time out after GOVFLOW_ACCESS_CACHE_MAX_AGE regardless).
        log.error("access cache invalidation of %s failed; retrying from a worker", key,
                  exc_info=True)
        from govflow.rollout.tasks import invalidate_key

        try:
            invalidate_key.apply_async(args=[key], countdown=1)
        except Exception:  # noqa: BLE001
            log.error("could not queue the retry of invalidating %s", key, exc_info=True)


def replace_key(key: str) -> None:
    """For the retry task: raises if the cache is still down, so the task retries."""
    _replace(key)


def on_release_changed(*, release_id: int) -> None:
    """settings.GOVFLOW_RELEASE_CHANGE_HOOKS: the release's stage or status changed and
    committed. Runs in the request that made the change, right after its commit."""
    invalidate_release(release_id)
