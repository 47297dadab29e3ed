"""The access check remembers bearer tokens per process; a revocation must still stop a
token on the very next check, in this process and in every other one."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from govflow.accounts.models import ApiToken
from govflow.accounts.services import token_digest, token_issue, token_revoke
from govflow.rollout import tokens

pytestmark = pytest.mark.django_db


def check(secret: str, release_id: int) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client.get("/api/access/check", {"release": release_id,
                                            "customer": "cust-1"}).status_code


def _revoke(token: ApiToken, actor, capture) -> None:
    with capture(execute=True):  # the hooks run after commit, as in production
        token_revoke(token_id=token.pk, actor=actor)


def test_a_revoked_gateway_token_is_refused_by_the_next_check(world,
                                                             django_capture_on_commit_callbacks):
    gateway = token_issue(user=world.manager.user, name="gateway")
    assert check(gateway.secret, world.release.pk) == 200  # now remembered by this process

    _revoke(gateway.token, world.manager.user, django_capture_on_commit_callbacks)

    assert check(gateway.secret, world.release.pk) == 401


@pytest.mark.parametrize("subject", ["customer", "auditor"])
def test_another_process_that_still_remembers_the_token_refuses_it_too(
        world, django_capture_on_commit_callbacks, subject):
    # given another process remembered the token before the revocation (its memory is
    # not ours to clear: we put the entry back as that process would still have it)
    gateway = token_issue(user=world.manager.user, name="gateway")
    assert check(gateway.secret, world.release.pk) == 200
    digest = token_digest(gateway.secret)
    remembered = tokens._cache[digest]

    _revoke(gateway.token, world.manager.user, django_capture_on_commit_callbacks)
    tokens._cache[digest] = remembered

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {gateway.secret}")
    params = {"customer": "cust-1"} if subject == "customer" else {"auditor": "erin"}
    response = client.get("/api/access/check", {"release": world.release.pk, **params})
    assert response.status_code == 401


def test_an_unrevoked_token_stays_remembered(world, django_capture_on_commit_callbacks):
    # revoking one token makes the others be read again once, not refused
    gateway = token_issue(user=world.manager.user, name="gateway")
    other = token_issue(user=world.manager.user, name="other")
    assert check(gateway.secret, world.release.pk) == 200

    _revoke(other.token, world.manager.user, django_capture_on_commit_callbacks)

    assert check(gateway.secret, world.release.pk) == 200
    assert check(other.secret, world.release.pk) == 401
