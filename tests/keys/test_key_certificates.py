"""Key certificates through the API: only a regulator certifies, only a lab person's own
registered key, in a lab role they hold; each act is one event carrying its envelope."""

from __future__ import annotations

import pytest

from govflow.audit.models import AuditEvent
from govflow.keys.certificate_predicates import build_key_certificate_revocation
from govflow.keys.models import KeyCertificate
from govflow.trust.keys import generate_private_key, public_key_to_base64
from tests import factories
from tests.auditing.support import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def rita():
    return person(factories.organization(kind="regulator"), "regulator")


@pytest.fixture
def bob(lab):
    return person(lab, "lab_signer")


def public(p) -> str:
    return public_key_to_base64(p.key.public_key())


def certify(who, statement):
    return who.client.post("/api/key-certificates", {"envelope": who.sign(statement)},
                           format="json")


def written() -> tuple[int, int]:
    return AuditEvent.objects.count(), KeyCertificate.objects.count()


def test_a_regulator_certifies_a_lab_signers_key(rita, bob, lab):
    response = certify(rita, factories.key_certificate_statement(bob.user, public(bob),
                                                                 "lab_signer"))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["user"], body["organization"], body["role"], body["in_force"]) == (
        bob.user.username, lab.slug, "lab_signer", True)
    event = AuditEvent.objects.get(event_type="key_certificate.issued")
    assert event.payload["certified_key_id"] == body["key_id"]
    assert event.payload["certified_user_id"] == bob.user.pk
    assert event.payload["envelope"]["payload"]
    assert event.organization_id == lab.pk  # the lab's people see it in their log


@pytest.mark.parametrize("role", ["release_manager", "lab_signer"])
def test_no_one_but_a_regulator_may_certify(lab, bob, role):
    # a lab cannot certify its own people's keys (it is the party the rule is against)
    insider = person(lab, role)
    before = written()

    response = certify(insider, factories.key_certificate_statement(bob.user, public(bob),
                                                                    "lab_signer"))

    assert response.status_code == 403
    assert written() == before


def test_an_auditor_may_not_certify(bob):
    auditor = person(factories.organization(kind="auditor"), "auditor")

    response = certify(auditor, factories.key_certificate_statement(bob.user, public(bob),
                                                                    "lab_signer"))

    assert response.status_code == 403


def test_a_role_the_person_does_not_hold_is_refused(rita, bob):
    before = written()

    response = certify(rita, factories.key_certificate_statement(bob.user, public(bob),
                                                                 "safety_officer"))

    assert response.status_code == 409
    assert response.json()["rule"] == "not_a_member"
    assert written() == before


def test_a_key_registered_to_someone_else_is_refused(rita, bob, lab):
    carol = person(lab, "lab_signer")

    # bob's key "for" carol
    response = certify(rita, factories.key_certificate_statement(carol.user, public(bob),
                                                                 "lab_signer"))

    assert response.status_code == 409
    assert response.json()["rule"] == "unknown_key"


def test_an_unregistered_key_is_refused(rita, bob):
    stranger = public_key_to_base64(generate_private_key().public_key())

    response = certify(rita, factories.key_certificate_statement(bob.user, stranger,
                                                                 "lab_signer"))

    assert response.status_code == 409
    assert response.json()["rule"] == "unknown_key"


def test_a_key_id_that_is_not_the_keys_is_refused(rita, bob):
    statement = factories.key_certificate_statement(bob.user, public(bob), "lab_signer")
    statement["predicate"]["key_id"] = "ab" * 32

    response = certify(rita, statement)

    assert response.status_code == 400
    assert "is not the id (SHA-256) of public_key" in str(response.json())


def test_a_regulators_own_key_is_not_certified_here(rita):
    response = certify(rita, factories.key_certificate_statement(rita.user, public(rita),
                                                                 "regulator"))

    assert response.status_code == 400
    assert "is not a lab" in str(response.json())


def test_a_lab_sees_its_own_certificates_and_no_others(rita, bob):
    certify(rita, factories.key_certificate_statement(bob.user, public(bob), "lab_signer"))
    [cert] = KeyCertificate.objects.all()
    outsider = person(factories.organization(kind="lab"), "release_manager")

    assert bob.client.get("/api/key-certificates").json()["count"] == 1
    assert outsider.client.get("/api/key-certificates").json()["count"] == 0
    assert outsider.client.get(f"/api/key-certificates/{cert.pk}").status_code == 404
    assert rita.client.get(f"/api/key-certificates/{cert.pk}").status_code == 200


def test_a_revocation_withdraws_every_certificate_of_the_key(rita, bob, lab):
    from govflow.accounts.services import membership_grant

    membership_grant(user=bob.user, organization=lab, role="safety_officer")
    for role in ("lab_signer", "safety_officer"):
        certify(rita, factories.key_certificate_statement(bob.user, public(bob), role))
    first, second = KeyCertificate.objects.order_by("id")
    revocation = build_key_certificate_revocation(
        certificate=first.pk, key_id=first.key.key_id, organization=lab.slug,
        reason="laptop stolen")

    response = rita.client.post(f"/api/key-certificates/{first.pk}/revoke",
                                {"envelope": rita.sign(revocation)}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["in_force"] is False
    assert KeyCertificate.objects.filter(revoked_at__isnull=True).count() == 0
    event = AuditEvent.objects.get(event_type="key_certificate.revoked")
    assert event.payload["certificates"] == [first.pk, second.pk]
    again = build_key_certificate_revocation(
        certificate=first.pk, key_id=first.key.key_id, organization=lab.slug, reason="again")
    assert rita.client.post(f"/api/key-certificates/{first.pk}/revoke",
                            {"envelope": rita.sign(again)}, format="json").status_code == 409


def test_a_revocation_must_name_the_certificates_key(rita, bob, lab):
    certify(rita, factories.key_certificate_statement(bob.user, public(bob), "lab_signer"))
    [cert] = KeyCertificate.objects.all()
    revocation = build_key_certificate_revocation(
        certificate=cert.pk, key_id="cd" * 32, organization=lab.slug, reason="wrong key")

    response = rita.client.post(f"/api/key-certificates/{cert.pk}/revoke",
                                {"envelope": rita.sign(revocation)}, format="json")

    assert response.status_code == 400
    assert KeyCertificate.objects.get().revoked_at is None
