"""The receipt endpoint and the receipts API writes carry (govflow.audit.receipts)."""

from __future__ import annotations

import base64

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from govflow.audit import tasks
from govflow.audit.models import AuditEvent
from govflow.trust import merkle
from govflow.trust.keys import generate_private_key, public_key_to_pem
from tests import factories

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.token_for(user)}")
    return client


def register(client, **headers):
    body = {"public_key": public_key_to_pem(generate_private_key().public_key()),
            "name": "laptop"}
    return client.post("/api/keys", body, format="json", **headers)


def test_the_receipt_completes_once_sequenced_and_its_proof_verifies(lab, release_manager):
    # given: a key registered (one event), then a checkpoint
    signer = factories.person(lab, "lab_signer")
    client = api(signer)
    first = register(client).json()["receipt"]
    tasks.checkpoint()
    # when
    completed = client.get(f"/api/log/events/{first['event']}/receipt").json()
    # then
    assert completed["uuid"] == first["uuid"]
    assert completed["index"] is not None
    root = base64.b64decode(completed["checkpoint"]["note"].split("\n")[2])
    proof = [base64.b64decode(h) for h in completed["inclusion"]]
    assert merkle.verify_inclusion(bytes.fromhex(completed["leaf_hash"]), completed["index"],
                                   completed["checkpoint"]["size"], proof, root)
    assert completed["checkpoint"]["witnessed"] is False  # no witness configured here


def test_another_labs_event_has_no_receipt_for_you(lab, release_manager, outsider):
    signer = factories.person(lab, "lab_signer")
    event = register(api(signer)).json()["receipt"]["event"]
    assert api(outsider).get(f"/api/log/events/{event}/receipt").status_code == 404


def test_a_refused_write_carries_no_receipt(lab):
    signer = factories.person(lab, "lab_signer")
    response = api(signer).post("/api/keys", {"public_key": "not a key", "name": "x"},
                                format="json")
    assert response.status_code == 400
    assert "receipt" not in response.json()


def test_an_idempotent_replay_carries_the_first_answers_receipt(lab):
    signer = factories.person(lab, "lab_signer")
    client = api(signer)
    body = {"public_key": public_key_to_pem(generate_private_key().public_key()),
            "name": "laptop"}
    first = client.post("/api/keys", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post("/api/keys", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["receipt"] == first.json()["receipt"]
    assert AuditEvent.objects.filter(event_type="key.registered").count() == 1


def test_the_console_links_each_event_to_its_receipt(regulator, lab):
    signer = factories.person(lab, "lab_signer")
    event = register(api(signer)).json()["receipt"]["event"]
    console = Client()
    console.force_login(regulator)
    page = console.get(reverse("console:audit")).text
    link = reverse("log-receipt", args=[event])
    assert f'href="{link}"' in page
    assert console.get(link).json()["event"] == event


def test_the_console_prints_the_verify_command_with_the_witnesses(regulator, settings):
    from govflow.core.env import WitnessConfig
    from govflow.witness import keyfile

    vkey = keyfile.generate("w.example/witness").cosigner.vkey
    settings.GOVFLOW_WITNESSES = [WitnessConfig("w.example/witness", "http://w.example", vkey)]
    console = Client()
    console.force_login(regulator)
    page = console.get(reverse("console:audit")).text
    assert f"--witness '{vkey}' --quorum 1" in page
