"""API tokens their owner controls: list, create with an expiry, revoke. A revoked token
is refused on the very next request; what was minted with a leaked token dies with it;
`token.revoked` is seen only by the owner's organization."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from govflow.accounts.models import ApiToken
from govflow.accounts.services import token_issue
from govflow.audit.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def alice(lab):
    user = factories.person(lab, "release_manager", username="alice")
    return user, token_issue(user=user, name="laptop").secret


def test_i_list_my_tokens_and_no_one_elses_without_their_secrets(alice, outsider):
    user, secret = alice
    token_issue(user=user, name="gateway")
    token_issue(user=outsider, name="not yours")

    response = bearer(secret).get("/api/tokens")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["name"] for r in rows] == ["gateway", "laptop"]
    assert all(set(r) == {"id", "name", "prefix", "created_at", "expires_at", "revoked_at",
                          "last_used_at"} for r in rows)
    assert secret not in response.content.decode()


def test_i_create_a_token_with_an_expiry_and_it_works_at_once(alice):
    _, secret = alice

    response = bearer(secret).post("/api/tokens", {"name": "ci", "ttl_days": 7}, format="json")

    assert response.status_code == 201
    body = response.json()
    made = ApiToken.objects.get(pk=body["token"]["id"])
    assert made.expires_at - timezone.now() <= timedelta(days=7)
    assert made.expires_at - timezone.now() > timedelta(days=7) - timedelta(minutes=1)
    assert body["secret"].startswith(body["token"]["prefix"])
    assert bearer(body["secret"]).get("/api/me").json()["username"] == "alice"
    event = AuditEvent.objects.get(event_type="token.issued", subject_id=str(made.pk))
    assert event.payload["expires_at"].endswith("Z")  # one time format in the log


@pytest.mark.parametrize(("body", "path"), [({"name": "x", "ttl_days": 0}, "ttl_days"),
                                            ({"name": "x", "ttl_days": 366}, "ttl_days"),
                                            ({"name": " "}, "name"), ({}, "name")])
def test_a_bad_token_request_names_the_field(alice, body, path):
    _, secret = alice
    before = ApiToken.objects.count()

    response = bearer(secret).post("/api/tokens", body, format="json")

    assert response.status_code == 400
    assert response.json()["fields"][0]["path"] == path
    assert ApiToken.objects.count() == before


def test_a_token_made_with_a_token_does_not_outlive_it(alice):
    # the attack: a thief holding a token that expires tomorrow mints a year-long copy
    user, _ = alice
    short = token_issue(user=user, name="short", ttl_days=1)

    response = bearer(short.secret).post("/api/tokens", {"name": "copy", "ttl_days": 365},
                                         format="json")

    assert response.status_code == 201
    made = ApiToken.objects.get(pk=response.json()["token"]["id"])
    assert made.expires_at == short.token.expires_at
    assert made.parent_id == short.token.pk


def test_a_revoked_token_is_refused_on_the_very_next_request(alice):
    user, secret = alice
    other = token_issue(user=user, name="gateway")
    client = bearer(other.secret)
    assert client.get("/api/me").status_code == 200

    response = bearer(secret).post(f"/api/tokens/{other.token.pk}/revoke")

    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    refused = client.get("/api/me")
    assert refused.status_code == 401
    assert bearer(secret).get("/api/me").status_code == 200  # the other one still works


def test_revoking_a_leaked_token_revokes_what_was_minted_with_it(alice):
    user, secret = alice
    leaked = token_issue(user=user, name="leaked")
    copy = bearer(leaked.secret).post("/api/tokens", {"name": "copy"}, format="json").json()
    copy_of_copy = bearer(copy["secret"]).post("/api/tokens", {"name": "copy 2"},
                                               format="json").json()

    bearer(secret).post(f"/api/tokens/{leaked.token.pk}/revoke")

    for stolen in (leaked.secret, copy["secret"], copy_of_copy["secret"]):
        assert bearer(stolen).get("/api/me").status_code == 401
    revoked = AuditEvent.objects.filter(event_type="token.revoked").order_by("id")
    assert [e.payload["prefix"] for e in revoked] == [
        leaked.token.prefix, copy["token"]["prefix"], copy_of_copy["token"]["prefix"]]
    assert bearer(secret).get("/api/me").status_code == 200


def test_i_cannot_revoke_someone_elses_token(alice, outsider):
    _, secret = alice
    theirs = token_issue(user=outsider, name="theirs")

    response = bearer(secret).post(f"/api/tokens/{theirs.token.pk}/revoke")

    assert response.status_code == 404
    assert ApiToken.objects.get(pk=theirs.token.pk).revoked_at is None
    assert bearer(theirs.secret).get("/api/me").status_code == 200


def test_revoking_twice_is_harmless_and_writes_one_event(alice):
    user, secret = alice
    other = token_issue(user=user, name="gateway")
    for _ in range(2):
        assert bearer(secret).post(f"/api/tokens/{other.token.pk}/revoke").status_code == 200
    assert AuditEvent.objects.filter(event_type="token.revoked").count() == 1


def test_the_revocation_event_is_seen_by_the_owners_organization_only(alice, outsider,
                                                                      regulator):
    user, secret = alice
    other = token_issue(user=user, name="gateway")
    bearer(secret).post(f"/api/tokens/{other.token.pk}/revoke")

    def revocations(who) -> list:
        rows = bearer(factories.token_for(who)).get("/api/log/events",
                                                    {"type": "token.revoked"}).json()
        return rows["results"]

    event = AuditEvent.objects.get(event_type="token.revoked")
    assert event.organization_id == user.memberships.get().organization_id
    assert [e["id"] for e in revocations(user)] == [event.pk]
    assert revocations(outsider) == []
    assert [e["id"] for e in revocations(regulator)] == [event.pk]


def test_an_expired_token_is_refused(alice):
    user, _ = alice
    old = token_issue(user=user, name="old", ttl_days=1)
    ApiToken.objects.filter(pk=old.token.pk).update(expires_at=timezone.now())

    response = bearer(old.secret).get("/api/tokens")

    assert response.status_code == 401


def test_the_token_endpoints_are_in_the_schema_with_their_errors(api, release_manager):
    schema = api(release_manager).get("/api/schema/", {"format": "json"}).json()
    tokens = schema["paths"]["/api/tokens"]
    assert {"get", "post"} <= set(tokens)
    assert {"201", "400"} <= set(tokens["post"]["responses"])
    revoke = schema["paths"]["/api/tokens/{id}/revoke"]["post"]
    assert {"200", "404"} <= set(revoke["responses"])
