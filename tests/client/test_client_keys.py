"""`client key-certify` (a regulator names the key by the id its holder gave her) and
`client keys audit` (every key the log binds to me, flagging the ones I do not hold)."""

from __future__ import annotations

import pytest

from govflow.audit.log import checkpoint_create
from govflow.audit.logkey import log_verifier_key
from govflow.client import keys as client
from govflow.client.cli import main
from govflow.client.remote import ClientError
from govflow.keys.models import KeyCertificate
from govflow.keys.services import key_register
from govflow.trust.keys import (
    generate_private_key,
    public_key_id,
    public_key_to_base64,
    save_private_key,
)
from tests import factories
from tests.auditing.support import person, transport_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def rita():
    return person(factories.organization(kind="regulator"), "regulator")


@pytest.fixture
def bob(lab, tmp_path):
    """bob's key is in his key directory."""
    bob = person(lab, "lab_signer")
    (tmp_path / "keys").mkdir()
    save_private_key(bob.key, tmp_path / "keys" / "laptop.pem")
    return bob


def bob_key_id(bob) -> str:
    return public_key_id(bob.key.public_key())


def test_a_regulator_certifies_the_key_id_the_signer_gave_her(rita, bob):
    row = client.key_certify(rita.api, rita.key, user=bob.user.username,
                             key_id=bob_key_id(bob), role="lab_signer", valid_days=30)

    assert row["key_id"] == bob_key_id(bob)
    assert KeyCertificate.objects.get().role == "lab_signer"


def test_a_key_id_the_server_does_not_list_for_the_person_is_refused(rita, bob):
    other = public_key_id(generate_private_key().public_key())

    with pytest.raises(ClientError, match="lists no key"):
        client.key_certify(rita.api, rita.key, user=bob.user.username, key_id=other,
                           role="lab_signer")
    assert not KeyCertificate.objects.exists()


def test_keys_audit_lists_my_key_and_its_certificate(rita, bob, tmp_path):
    client.key_certify(rita.api, rita.key, user=bob.user.username, key_id=bob_key_id(bob),
                       role="lab_signer")

    lines, unheld = client.keys_audit(bob.api, key_files=[], key_dir=tmp_path / "keys")

    assert unheld == 0
    text = "\n".join(lines)
    assert f"held     {bob_key_id(bob)} active" in text
    assert f"certified by {rita.user.username} as lab_signer" in text


def test_keys_audit_flags_a_key_the_server_minted_in_my_name(bob, tmp_path):
    minted = generate_private_key()
    key_register(user=bob.user, public_key=public_key_to_base64(minted.public_key()),
                 name="laptop")  # the operator's doing, named to look like bob's

    lines, unheld = client.keys_audit(bob.api, key_files=[], key_dir=tmp_path / "keys")

    assert unheld == 1
    text = "\n".join(lines)
    assert f"NOT HELD {public_key_id(minted.public_key())} active" in text
    assert "someone else can sign in your name" in text
    # another person's keys are not bound to me
    other = person(factories.organization(kind="lab"), "lab_signer")
    assert public_key_id(other.key.public_key()) not in text


def test_keys_audit_proves_the_events_in_the_signed_log(bob, tmp_path):
    checkpoint_create()

    lines, unheld = client.keys_audit(bob.api, key_files=[], key_dir=tmp_path / "keys",
                                      log_key=log_verifier_key())

    assert unheld == 0
    assert not [line for line in lines if line.startswith(("LOG", "note"))]


def test_keys_audit_on_the_command_line_exits_1_for_an_unheld_key(bob, tmp_path, capsys):
    def run() -> int:
        return main(["keys", "audit", "--url", "http://testserver", "--token", bob.token,
                     "--key-dir", str(tmp_path / "keys")], transport=transport_for_client())

    assert run() == 0
    key_register(user=bob.user, public_key=public_key_to_base64(
        generate_private_key().public_key()), name="minted")
    assert run() == 1
    assert "NOT HELD" in capsys.readouterr().out


def transport_for_client():
    from rest_framework.test import APIClient

    return transport_for(APIClient())
