"""Bearer-token authentication for API clients."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.utils import timezone
from rest_framework import authentication

from govflow.accounts.machine import machine_scope_check
from govflow.accounts.models import ApiToken, Membership, Organization
from govflow.accounts.selectors import identity_remember
from govflow.accounts.services import token_digest
from govflow.accounts.signin import api_auth_failed
from govflow.core.errors import PermissionDenied
from govflow.core.rows import Columns, split

# last_used_at is informational; writing it on every request would turn each read
# into a write, so it is refreshed at most this often.
_LAST_USED_RESOLUTION = timedelta(minutes=5)


@cache
def _holder_query() -> tuple[str, tuple[Columns[Any], Columns[Any], Columns[Any]]]:
    parts = (Columns(ApiToken, "t"), Columns(get_user_model(), "u"),
             Columns(Organization, "o"))
    table = connection.ops.quote_name
    sql = (
        f"SELECT {parts[0].sql}, {parts[1].sql}, {parts[2].sql}, m.role "
        f"FROM {table(ApiToken._meta.db_table)} t "
        f"JOIN {table(get_user_model()._meta.db_table)} u ON u.id = t.user_id "
        f"LEFT JOIN {table(Membership._meta.db_table)} m ON m.user_id = u.id "
        f"LEFT JOIN {table(Organization._meta.db_table)} o ON o.id = m.organization_id "
        "WHERE t.digest = %s"
    )
    return sql, parts


def token_with_holder(digest: str) -> ApiToken | None:
    """The token of this digest with its user, and who the user is (organization and
    roles, remembered on the user for this request: `accounts.selectors.user_identity`),
    read in one query; every authenticated request makes it, so it is hand-written
    (`govflow.core.rows`). Read afresh on every request: a revoked token, a deactivated
    user or a changed membership counts from the next request on."""
    sql, parts = _holder_query()
    with connection.cursor() as cursor:
        cursor.execute(sql, [digest])
        rows = cursor.fetchall()
    if not rows:
        return None
    # One row per membership; all of a user's memberships are in one organization
    # (Membership's rule), so the first row names it.
    token, user, organization, _role = split(rows[0], *parts)
    token.user = user
    identity_remember(user, organization=organization,
                      roles=frozenset(row[-1] for row in rows if row[-1] is not None))
    return token


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
        token = token_with_holder(token_digest(secret))
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
