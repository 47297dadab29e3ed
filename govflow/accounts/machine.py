"""Machine tokens: a monitoring source's or a serving gateway's token, scoped to one
release and one purpose (`ApiToken.purpose`, `TokenPurpose`).

The scope is enforced where every bearer token is read, not by the views that accept one:
`BearerTokenAuthentication` refuses a machine token on any API view that does not list
its purpose in ``machine_purposes`` (and on any method but POST), and the access check's
token reader (`govflow.rollout.tokens`) refuses it outright. A view that accepts one
then confines it to its release with `machine_release`. So a leaked gateway token files
incidents on its release and does nothing else: it reads nothing, resolves nothing,
signs nothing, mints no token, advances nothing.
"""

from __future__ import annotations

from typing import Any

from govflow.accounts.access import not_found
from govflow.accounts.models import ApiToken
from govflow.core.errors import PermissionDenied


def machine_token_of(request: Any) -> ApiToken | None:
    """The machine token the request came with, or None (a person's token, a session)."""
    token = getattr(request, "auth", None)
    return token if isinstance(token, ApiToken) and token.is_machine else None


def machine_scope_check(token: ApiToken, *, view: Any, method: str) -> None:
    """Refuse (403) a machine token anywhere but the one kind of request its purpose is."""
    if not token.is_machine:
        return
    if method != "POST" or token.purpose not in getattr(view, "machine_purposes", ()):
        raise machine_scope_refused(token)


def machine_scope_refused(token: ApiToken) -> PermissionDenied:
    return PermissionDenied(
        f"this is a machine token for {token.purpose} on release {token.release_id}: it may "
        "do that and nothing else", detail={"rule": "machine_token_scope"})


def machine_release(token: ApiToken, release_id: int) -> None:
    """A machine token sees its own release only: any other is not there for it (404)."""
    if token.release_id != release_id:
        not_found()


def machine_fields(token: ApiToken | None) -> dict[str, Any]:
    """What an audit event of an act done with a machine token says about it, so the
    offline verifier can tell it from a signed act and find the token's issuance."""
    if token is None:
        return {}
    return {"machine_token": {"token": token.pk, "prefix": token.prefix,
                              "purpose": token.purpose, "release": token.release_id}}
