"""GET /api/me, the lightest authenticated request, is one statement: the token, its
user, their organization and roles are read together (`token_with_holder`), and read
again on every request, so a role taken away counts from the next one."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from govflow.accounts.models import Membership
from govflow.accounts.services import user_create
from tests import factories
from tests.queries import reads, statements

pytestmark = pytest.mark.django_db


def client_of(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.token_for(user)}")
    return client


def test_who_am_i_is_one_statement(django_assert_num_queries):
    lab = factories.organization(kind="lab")
    client = client_of(factories.person(lab, "release_manager", "lab_signer"))
    client.get("/api/me")  # the first use writes the token's last_used_at

    with django_assert_num_queries(1) as captured:
        response = client.get("/api/me")

    assert response.status_code == 200
    assert sorted(response.json()["roles"]) == ["lab_signer", "release_manager"]
    assert response.json()["organization"]["slug"] == lab.slug
    sql = statements(captured)
    for table in ("accounts_apitoken", "accounts_membership", "accounts_organization"):
        assert reads(sql, table) == 1, sql


def test_a_role_taken_away_counts_from_the_next_request():
    # given a signer who has been seen with their roles
    lab = factories.organization(kind="lab")
    user = factories.person(lab, "release_manager", "lab_signer")
    client = client_of(user)
    assert sorted(client.get("/api/me").json()["roles"]) == ["lab_signer", "release_manager"]

    # when one role is taken away
    Membership.objects.filter(user=user, role="lab_signer").delete()

    # then the next request knows
    assert client.get("/api/me").json()["roles"] == ["release_manager"]


def test_a_person_without_an_organization_is_nobody_in_particular():
    client = client_of(user_create(username="loner"))

    body = client.get("/api/me").json()

    assert (body["organization"], body["roles"]) == (None, [])
