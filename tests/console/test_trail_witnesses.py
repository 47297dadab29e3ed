"""The audit trail's verdict names a witness only when that witness's stored cosignature of
the latest checkpoint verifies under the key the deployment configured for it: the
cosignature rows are the operator's to write, so a row alone proves nothing."""

from __future__ import annotations

import dataclasses

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from govflow.audit.log import checkpoint_create
from govflow.audit.models import Cosignature
from govflow.console.trail import audit_trail
from govflow.core.env import WitnessConfig
from govflow.trust.cosignature import cosign, cosigner_for
from govflow.trust.note import split_note
from tests import factories

pytestmark = pytest.mark.django_db

NAME = "regulator.example/witness"


@pytest.fixture
def signed_log(lab, release_manager, settings):
    """A checkpoint of a small log and one configured witness whose key the test holds."""
    factories.release(lab, release_manager)
    checkpoint = checkpoint_create()
    key = Ed25519PrivateKey.generate()
    cosigner = cosigner_for(NAME, key.public_key())
    settings.GOVFLOW_WITNESSES = [WitnessConfig(NAME, "http://127.0.0.1:9", cosigner.vkey)]
    body, _ = split_note(checkpoint.note)
    return checkpoint, body, key, cosigner


def store(checkpoint, cosigner, cosignature) -> None:
    Cosignature.objects.create(checkpoint=checkpoint, witness=cosigner.name,
                               witness_key=cosigner.vkey, timestamp=cosignature.timestamp,
                               line=cosignature.line().rstrip("\n"))


def test_a_verifying_cosignature_makes_the_trail_witnessed(signed_log, regulator):
    # given the configured witness's own cosignature of the latest checkpoint
    checkpoint, body, key, cosigner = signed_log
    store(checkpoint, cosigner, cosign(body, NAME, key, 1_800_000_000))
    # when the regulator opens the trail
    verdict = audit_trail(regulator)["verdict"]
    # then the verdict names the witness
    assert f"witnessed by {NAME}" in verdict["text"]
    assert verdict["witnesses"] == [NAME]


def test_a_forged_cosignature_row_does_not_make_the_trail_witnessed(signed_log, regulator):
    # given a row claiming the configured witness (its name and key id) signed by another key
    checkpoint, body, _key, cosigner = signed_log
    forged = cosign(body, NAME, Ed25519PrivateKey.generate(), 1_800_000_000)
    store(checkpoint, cosigner, dataclasses.replace(forged, key_id=cosigner.key_id))
    # when the regulator opens the trail
    verdict = audit_trail(regulator)["verdict"]
    # then it is not called witnessed
    assert "not witnessed" in verdict["text"]
    assert verdict.get("witnesses", []) == []
