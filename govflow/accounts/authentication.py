"""Bearer-token authentication for API clients."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework import authentication

from govflow.accounts.machine import machine_scope_check
from govflow.accounts.models import ApiToken
from govflow.accounts.services import token_digest
from govflow.accounts.signin import api_auth_failed
from govflow.core.errors import PermissionDenied

# last_used_at is informational; writing it on every request would turn each read
# into a write, so it is refreshed at most this often.
_LAST_USED_RESOLUTION = timedelta(minutes=5)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise api_auth_failed(request, username=None,
                                  reason="Authorization header must be 'Bearer <token>'.")
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise api_auth_failed(request, username=None, reason="Token is not ASCII.") from exc
        token = (
            ApiToken.objects.select_related("user")
            .filter(digest=token_digest(secret))
            .first()
        )
        now = timezone.now()
        # Failures count towards the token owner's lockout and the address's
        # (govflow.accounts.signin); past the limit they are 429, not 401.
        if token is None:
            raise api_auth_failed(request, username=None, reason="Invalid or revoked token.")
        if token.revoked_at is not None or not token.user.is_active:
            raise api_auth_failed(request, username=token.user.get_username(),
                                  reason="Invalid or revoked token.")
        if token.expires_at <= now:
            raise api_auth_failed(request, username=token.user.get_username(),
                                  reason="Token has expired.")
        if token.purpose:
            # Before anything else of the request runs: a machine token is scoped to one
            # kind of request (govflow.accounts.machine).
            try:
                machine_scope_check(token, view=(request.parser_context or {}).get("view"),
                                    method=request.method)
            except PermissionDenied:
                # Whatever reads request.user after the refusal (the renderer's template
                # context) must find nobody, not authenticate again and raise again.
                request.user, request.auth = AnonymousUser(), None
                raise
        if token.last_used_at is None or now - token.last_used_at > _LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword
