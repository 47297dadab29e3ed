"""Sign-in throttling and lockout: one mechanism (django-axes) for the console's login, the
admin's login and the API's bearer-token failures, per account and per address.

- Console and admin: axes's authentication backend refuses a locked account or address
  before the password is checked; its middleware answers 429.
- API: a bearer token that fails (unknown, revoked, expired, inactive owner) is reported to
  axes like a failed password, under its owner's username when the token is known and under
  ``UNKNOWN_TOKEN`` otherwise; once the account or address is locked the answer is DRF's
  `Throttled` (429 with Retry-After) instead of 401. A valid token is never refused by a
  lockout: tokens are not guessable, and a colleague mistyping a console password behind
  the same address must not stop the lab's API clients.
- Each lockout (not each refused attempt inside it) is one audit event, ``signin.locked_out``;
  an admin's unlock (`signin_unlock`, from `manage.py signin_unlock`, the admin's action or
  axes's own `axes_reset*` commands, which govflow.accounts replaces) is
  ``signin.unlocked``. The address is logged because per-address lockout acts on it.

Axes announces a lockout with its own ``user_locked_out`` signal, a library hook rather than
a model signal, so the audit event is written from its receiver (`on_locked_out`).
"""

from __future__ import annotations

import math

from axes.backends import AxesStandaloneBackend
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.dispatch import receiver
from rest_framework import exceptions

from govflow.audit.events import EventType
from govflow.audit.services import audit_append

# The account every failure with an unknown token counts against: locking it only turns
# those 401s into 429s (nobody holds such a token), and its address is counted too.
UNKNOWN_TOKEN = "(unknown api token)"


def _retry_after() -> int:
    cool_off = get_cool_off()
    return max(1, math.ceil(cool_off.total_seconds())) if cool_off else 3600


def api_auth_failed(request, *, username: str | None, reason: str) -> exceptions.APIException:
    """Record a failed bearer token for ``request`` (a DRF or Django request) and return
    the exception to raise: 401 as before, or 429 once the account or address is locked."""
    django_request = getattr(request, "_request", request)
    credentials = {"username": username or UNKNOWN_TOKEN}
    if AxesProxyHandler.is_locked(django_request, credentials):
        return exceptions.Throttled(wait=_retry_after(),
                                    detail="Too many failed sign-ins; try again later.")
    user_login_failed.send(sender=__name__, credentials=credentials, request=django_request)
    if getattr(django_request, "axes_locked_out", False):
        # This failure locked it; the middleware must not answer with axes's own page, the
        # API answers as DRF does.
        django_request.axes_locked_out = False
        return exceptions.Throttled(wait=_retry_after(),
                                    detail="Too many failed sign-ins; try again later.")
    return exceptions.AuthenticationFailed(reason)


@receiver(user_locked_out, dispatch_uid="govflow.signin.locked_out")
def on_locked_out(sender, request, username, ip_address, **kwargs) -> None:
    # Axes sends this again for every attempt refused during a lockout; only the failure
    # that caused it has a failure count on the request.
    failures = getattr(request, "axes_failures_since_start", None)
    if failures is None:
        return
    attempt = (AccessAttempt.objects.filter(username=username, ip_address=ip_address)
               .order_by("-attempt_time").first())
    if attempt is None:
        return
    cool_off = get_cool_off(request)
    with transaction.atomic():
        audit_append(
            event_type=EventType.SIGNIN_LOCKED_OUT, actor=None, subject=attempt,
            payload={"username": username, "address": ip_address, "failures": failures,
                     "path": request.path, "unlocks_after_seconds":
                         int(cool_off.total_seconds()) if cool_off else None},
        )


def signin_unlock(*, username: str | None = None, address: str | None = None,
                  everything: bool = False, actor=None) -> int:
    """Lift the lockouts of an account, an address, both, or (``everything``) all of them
    (an admin's act): one audit event per lifted record. Returns how many were lifted."""
    if not (username or address or everything):
        raise ValueError("name an account (username) or an address, or both")
    rows = AccessAttempt.objects.all()
    if username:
        rows = rows.filter(username=username)
    if address:
        rows = rows.filter(ip_address=address)
    lifted = 0
    with transaction.atomic():
        for attempt in rows.select_for_update().order_by("pk"):
            audit_append(
                event_type=EventType.SIGNIN_UNLOCKED, actor=actor, subject=attempt,
                payload={"username": attempt.username, "address": attempt.ip_address,
                         "failures": attempt.failures_since_start},
            )
            attempt.delete()
            lifted += 1
    return lifted


def client_address(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


class LockoutBackend(AxesStandaloneBackend):
    """axes's backend, except that an `authenticate()` without a request (the test
    client's `login()`, a shell) is let through to the password check instead of failing:
    every sign-in over HTTP (console, admin) passes its request, and is checked."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
