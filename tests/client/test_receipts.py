"""Receipts: a recorded act answers with one, the client keeps it, and `client receipts
verify` proves it still in the newest witnessed checkpoint, or names it as vanished."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from rest_framework.test import APIClient

from govflow.audit import tasks
from govflow.audit.logkey import log_verifier_key
from govflow.audit.models import AuditEvent
from govflow.client.cli import main
from govflow.client.remote import Api
from govflow.client.signoffs import register_key
from govflow.trust.keys import generate_private_key
from tests import factories
from tests.audit import tamper
from tests.signoffs.support import transport_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def witness(log_witness):
    return log_witness


@pytest.fixture
def receipts(tmp_path):
    return tmp_path / "my-receipts"


@pytest.fixture
def signer(lab):
    user = factories.person(lab, "lab_signer")
    return user, factories.token_for(user)


def client_api(token, receipts):
    return Api("http://testserver", token, transport=transport_for(APIClient()),
               receipts_dir=receipts)


def verify(token, receipts, *extra, capsys):
    code = main(["receipts", "verify", "--token", token, "--receipts-dir", str(receipts),
                 "--log-key", log_verifier_key(), *extra], transport=transport_for(APIClient()))
    return code, capsys.readouterr().out


def test_a_recorded_act_answers_with_a_receipt_the_client_keeps(signer, receipts):
    # when
    row = register_key(client_api(signer[1], receipts), generate_private_key(), name="laptop")
    # then
    event = AuditEvent.objects.get(event_type="key.registered")
    assert row["receipt"]["event"] == event.pk
    assert row["receipt"]["uuid"] == str(event.uuid)
    assert row["receipt"]["leaf_hash"] == event.leaf_hash
    assert row["receipt"]["index"] is None  # not sequenced yet
    kept = json.loads((receipts / f"{event.uuid}.json").read_text())
    assert kept["leaf_hash"] == event.leaf_hash


def test_a_read_carries_no_receipt(signer):
    response = APIClient()
    response.credentials(HTTP_AUTHORIZATION=f"Bearer {signer[1]}")
    assert "receipt" not in response.get("/api/log/checkpoints").json()


def test_receipts_verify_against_the_witnessed_checkpoint(witness, signer, receipts, capsys):
    # given: an act recorded, before and after the log sequenced and witnessed it
    register_key(client_api(signer[1], receipts), generate_private_key(), name="laptop")
    pending = verify(signer[1], receipts, capsys=capsys)
    tasks.checkpoint()
    # when
    first = verify(signer[1], receipts, "--witness", witness.vkey, capsys=capsys)
    factories.person(factories.organization(), "release_manager")  # the log grows
    tasks.checkpoint()
    second = verify(signer[1], receipts, "--witness", witness.vkey, capsys=capsys)
    # then
    assert pending[0] == 0
    assert "PENDING" in pending[1]
    assert first[0] == 0, first[1]
    assert "OK" in first[1]
    assert "cosigned by 1 witness(es)" in first[1]
    assert second[0] == 0, second[1]
    completed = json.loads(next(receipts.glob("*.json")).read_text())
    assert completed["checkpoint"]["witnessed"] is True
    assert completed["first_checkpoint"]["size"] < completed["checkpoint"]["size"]


def test_a_receipt_without_the_witness_quorum_fails(signer, receipts, capsys, lab):
    from govflow.witness import keyfile

    register_key(client_api(signer[1], receipts), generate_private_key(), name="laptop")
    tasks.checkpoint()  # no witness configured: the checkpoint is not cosigned
    code, out = verify(signer[1], receipts, "--witness",
                       keyfile.generate("w.example/x").cosigner.vkey, capsys=capsys)
    assert code == 1
    assert "FAILED" in out
    assert "fewer than the quorum" in out


@pytest.mark.postgres
def test_an_act_erased_from_the_log_is_named_as_vanished(signer, receipts, capsys):
    # given: a sequenced, checkpointed act the client holds a receipt for
    register_key(client_api(signer[1], receipts), generate_private_key(), name="laptop")
    factories.person(factories.organization(), "release_manager")
    tasks.checkpoint()
    assert verify(signer[1], receipts, capsys=capsys)[0] == 0
    erased = AuditEvent.objects.get(event_type="key.registered")
    # when: the operator deletes it and rebuilds and re-signs the tree without it
    tamper.drop_log_triggers()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM keys_signingkey WHERE user_id = %s", [signer[0].pk])
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [erased.pk])
    tamper.discard_tree()
    tasks.checkpoint()
    code, out = verify(signer[1], receipts, capsys=capsys)
    # then
    assert code == 1
    assert f"VANISHED {erased.uuid}" in out


@pytest.mark.postgres
def test_a_rewritten_history_that_keeps_my_act_fails_consistency(signer, receipts, capsys, lab,
                                                                 release_manager):
    # given: my act is in a checkpoint the receipt came with
    factories.release(lab, release_manager)
    register_key(client_api(signer[1], receipts), generate_private_key(), name="laptop")
    tasks.checkpoint()
    assert verify(signer[1], receipts, capsys=capsys)[0] == 0
    # when: the operator edits an *earlier* event (not mine), rebuilds and re-signs the tree
    tamper.drop_log_triggers()
    tamper.edit_event(AuditEvent.objects.order_by("id")[1])
    tamper.discard_tree()
    factories.person(factories.organization(), "release_manager")
    tasks.checkpoint()
    code, out = verify(signer[1], receipts, capsys=capsys)
    # then: my act is still "included", but in a history that does not extend the old one
    assert code == 1
    assert "FAILED" in out
    assert "not consistent with checkpoint" in out
