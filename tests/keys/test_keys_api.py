"""The keys REST API: who sees which keys, registering, rotating, revoking."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from govflow.audit.models import AuditEvent
from govflow.keys.models import SigningKey
from govflow.trust.keys import public_key_id, public_key_to_base64, public_key_to_pem
from tests import factories

pytestmark = pytest.mark.django_db


def a_public_key() -> str:
    return public_key_to_base64(ed25519.Ed25519PrivateKey.generate().public_key())


@pytest.fixture
def bob(lab):
    return factories.person(lab, "lab_signer", username="bob")


def register(client, public_key=None, **extra):
    body = {"public_key": public_key or a_public_key(), "name": "laptop", **extra}
    return client.post("/api/keys", body, format="json")


def test_registering_a_key_answers_201_with_its_id(api, bob):
    private = ed25519.Ed25519PrivateKey.generate()

    response = register(api(bob), public_key_to_pem(private.public_key()))

    body = response.json()
    assert response.status_code == 201, body
    assert body["key_id"] == public_key_id(private.public_key())
    assert body["public_key"] == public_key_to_base64(private.public_key())
    assert (body["user"], body["usable"], body["revoked_at"]) == ("bob", True, None)


def test_a_non_ed25519_key_is_a_clear_400(api, bob):
    rsa_pem = public_key_to_pem(rsa.generate_private_key(65537, 2048).public_key())
    client = api(bob)
    mark = AuditEvent.objects.count()

    response = register(client, rsa_pem)

    body = response.json()
    assert response.status_code == 400
    assert body["fields"] == [{"path": "public_key",
                               "message": "expected an Ed25519 key, got RSAPublicKey"}]
    assert AuditEvent.objects.count() == mark


def test_a_duplicate_key_is_409(api, bob):
    client = api(bob)
    key = a_public_key()
    assert register(client, key).status_code == 201

    response = register(client, key)

    assert response.status_code == 409
    assert "already registered" in response.json()["message"]


def test_someone_without_an_organization_cannot_register_keys(api):
    loner = factories.person(factories.organization(), username="loner")  # no membership

    assert register(api(loner)).status_code == 403


def test_people_list_their_own_keys_and_a_regulator_lists_all(api, lab, bob, regulator):
    carol = factories.person(lab, "lab_signer", username="carol")
    register(api(bob))
    register(api(carol))

    own = api(bob).get("/api/keys").json()["results"]
    everyone = api(regulator).get("/api/keys").json()["results"]
    only_carol = api(regulator).get("/api/keys?user=carol").json()["results"]

    assert [k["user"] for k in own] == ["bob"]
    assert sorted(k["user"] for k in everyone) == ["bob", "carol"]
    assert [k["user"] for k in only_carol] == ["carol"]


def test_revoking_your_key(api, bob):
    client = api(bob)
    key = register(client).json()

    response = client.post(f"/api/keys/{key['id']}/revoke", {"reason": "lost"}, format="json")

    assert response.status_code == 200
    assert (response.json()["usable"], response.json()["revoked_reason"]) == (False, "lost")
    again = client.post(f"/api/keys/{key['id']}/revoke", {"reason": "lost"}, format="json")
    assert again.status_code == 409


def test_rotating_your_key(api, bob):
    client = api(bob)
    old = register(client).json()

    response = client.post(f"/api/keys/{old['id']}/rotate",
                           {"public_key": a_public_key(), "name": "new laptop"}, format="json")

    assert response.status_code == 201, response.json()
    new = response.json()
    assert new["name"] == "new laptop"
    assert new["usable"] is True
    assert SigningKey.objects.get(pk=old["id"]).revoked_at is not None


@pytest.mark.parametrize("action", ["revoke", "rotate"])
def test_another_persons_key_is_404_even_for_a_regulator(api, lab, bob, regulator, action):
    key = register(api(bob)).json()
    carol = factories.person(lab, "lab_signer")
    body = {"reason": "x", "public_key": a_public_key(), "name": "n"}

    for who in (carol, regulator):
        response = api(who).post(f"/api/keys/{key['id']}/{action}", body, format="json")
        assert response.status_code == 404
    assert SigningKey.objects.get(pk=key["id"]).revoked_at is None


def test_a_retried_registration_with_the_same_idempotency_key_answers_the_same(api, bob):
    client = api(bob)
    body = {"public_key": a_public_key(), "name": "laptop"}

    first = client.post("/api/keys", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = client.post("/api/keys", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert (first.status_code, second.status_code) == (201, 201)
    assert second["Idempotent-Replayed"] == "true"
    assert SigningKey.objects.filter(user=bob).count() == 1
