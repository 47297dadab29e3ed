"""`python -m govflow.client tokens | token-create | token-revoke`, against the API
answered in-process."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from govflow.accounts.models import ApiToken
from govflow.client.cli import main
from tests import factories
from tests.auditing.support import transport_for

pytestmark = pytest.mark.django_db


def run(token: str, *argv: str) -> int:
    return main([*argv, "--url", "http://testserver", "--token", token],
                transport=transport_for(APIClient()))


def test_create_list_and_revoke_a_token_from_the_command_line(lab, capsys):
    user = factories.person(lab, "release_manager", username="alice")
    mine = factories.token_for(user)

    assert run(mine, "token-create", "--name", "gateway", "--ttl-days", "30") == 0
    secret = capsys.readouterr().out.strip()
    made = ApiToken.objects.get(name="gateway")
    assert secret.startswith(made.prefix)

    assert run(mine, "tokens") == 0
    listed = capsys.readouterr().out
    assert "gateway" in listed
    assert made.prefix in listed
    assert secret not in listed

    assert run(mine, "token-revoke", "--id", str(made.pk)) == 0
    assert "revoked token" in capsys.readouterr().err
    assert run(secret, "tokens") == 1  # refused at once
    assert "revoked" in capsys.readouterr().err
    made.refresh_from_db()
    assert made.revoked_at is not None


def test_revoking_a_token_that_is_not_yours_is_refused(lab, outsider, capsys):
    user = factories.person(lab, "release_manager")
    factories.token_for(outsider)
    theirs = ApiToken.objects.get(user=outsider)

    assert run(factories.token_for(user), "token-revoke", "--id", str(theirs.pk)) == 1

    assert "govflow refused" in capsys.readouterr().err
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
