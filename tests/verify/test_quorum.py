"""The verifier's witness quorum: a checkpoint without K valid cosignatures from pinned
witnesses is refused, whatever else the bundle claims."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import pytest

from govflow.audit.export import build_bundle
from govflow.audit.logkey import log_verifier_key
from govflow.trust.cosignature import cosign
from govflow.trust.note import split_note
from govflow.verify.bundle import verify_bundle
from govflow.verify.witnesses import UsageError
from govflow.witness import keyfile
from tests import factories
from tests.witness.support import REPO

pytestmark = pytest.mark.django_db


@pytest.fixture
def bundle(lab, release_manager):
    factories.release(lab, release_manager)
    return json.loads(json.dumps(build_bundle(release=None), default=str))


@pytest.fixture
def w1():
    return keyfile.generate("one.example/witness")


@pytest.fixture
def w2():
    return keyfile.generate("two.example/witness")


def cosigned(bundle, *keys, entry: int = -1):
    checkpoint = bundle["checkpoints"][entry]
    body, _ = split_note(checkpoint["note"])
    for key in keys:
        line = cosign(body, key.name, key.private_key, 1_700_000_000).line()
        checkpoint.setdefault("cosignatures", []).append(line)
    return bundle


def verify(bundle, *keys, quorum=None):
    return verify_bundle(bundle, log_key=log_verifier_key(),
                         witnesses=[k.cosigner.vkey for k in keys], quorum=quorum)


def test_a_checkpoint_no_pinned_witness_cosigned_is_refused(bundle, w1):
    report = verify(bundle, w1)
    assert not report.passed
    assert "cosigned by 0 of the pinned witnesses" in report.failure


def test_a_cosignature_by_a_pinned_witness_meets_the_quorum(bundle, w1):
    report = verify(cosigned(bundle, w1), w1)
    assert report.passed, report.render()
    assert "cosigned by 1 pinned witness(es) (one.example/witness); quorum 1 met" in \
        report.render()


def test_cosignatures_of_witnesses_the_verifier_does_not_pin_do_not_count(bundle, w1, w2):
    report = verify(cosigned(bundle, w2), w1)
    assert not report.passed
    assert "fewer than the quorum of 1" in report.failure


def test_k_of_n(bundle, w1, w2):
    one_of_two = cosigned(bundle, w1)
    assert verify(one_of_two, w1, w2, quorum=1).passed
    assert not verify(one_of_two, w1, w2).passed  # default quorum: all pinned witnesses
    assert verify(cosigned(one_of_two, w2), w1, w2).passed


def test_a_forged_cosignature_in_a_pinned_witnesss_name_fails_the_bundle(bundle, w1):
    cosigned(bundle, w1)
    line = bundle["checkpoints"][-1]["cosignatures"][0]
    name, b64 = line.rstrip("\n").rsplit(" ", 1)
    blob = bytearray(base64.b64decode(b64))
    blob[-1] ^= 1
    bundle["checkpoints"][-1]["cosignatures"] = [f"{name} {base64.b64encode(blob).decode()}\n"]
    report = verify(bundle, w1)
    assert not report.passed
    assert "forged cosignature" in report.failure


def test_a_cosignature_of_an_older_checkpoint_does_not_carry_over(lab, release_manager, w1):
    # given: the witness cosigned an earlier checkpoint; the lab copies its line onto a new one
    from govflow.audit.log import checkpoint_create

    factories.release(lab, release_manager)
    checkpoint_create()
    factories.release(lab, release_manager)
    bundle = json.loads(json.dumps(build_bundle(release=None), default=str))
    cosigned(bundle, w1, entry=0)
    bundle["checkpoints"][-1]["cosignatures"] = bundle["checkpoints"][0]["cosignatures"]
    # then
    report = verify(bundle, w1)
    assert not report.passed
    assert "forged cosignature" in report.failure


def test_a_quorum_larger_than_the_pinned_witnesses_is_bad_usage(bundle, w1, tmp_path):
    with pytest.raises(UsageError):
        verify(bundle, w1, quorum=2)
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle))
    result = subprocess.run(
        [sys.executable, "-m", "govflow.verify", str(path), "--log-key", log_verifier_key(),
         "--witness", w1.cosigner.vkey, "--quorum", "2"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "--quorum 2 needs at least that many --witness keys" in result.stderr


def two_checkpoints(lab, release_manager):
    from govflow.audit.log import checkpoint_create

    factories.release(lab, release_manager)
    checkpoint_create()
    factories.release(lab, release_manager)
    bundle = json.loads(json.dumps(build_bundle(release=None), default=str))
    assert len(bundle["checkpoints"]) >= 2
    return bundle


def test_an_earlier_checkpoint_under_quorum_is_named_not_passed_over(lab, release_manager, w1):
    # given: the witness was down for the first checkpoint and cosigned the latest
    bundle = cosigned(two_checkpoints(lab, release_manager), w1)
    first = bundle["checkpoints"][0]["size"]
    latest = bundle["checkpoints"][-1]["size"]

    # when
    report = verify(bundle, w1)

    # then: it passes (the latest, which meets the quorum, is proven to extend it), and
    # the report says precisely which checkpoint it did not rely on and why
    assert report.passed, report.render()
    assert any(w.startswith(f"checkpoint {first}: cosigned by 0 of the pinned witnesses")
               and f"proven a prefix of checkpoint {latest}" in w for w in report.warnings)


def test_every_earlier_checkpoint_meeting_the_quorum_is_counted(lab, release_manager, w1):
    bundle = two_checkpoints(lab, release_manager)
    for entry in range(len(bundle["checkpoints"])):
        cosigned(bundle, w1, entry=entry)

    report = verify(bundle, w1)

    assert report.passed, report.render()
    assert report.warnings == []
    assert f"{len(bundle['checkpoints']) - 1} earlier checkpoint(s) also meet quorum 1" in \
        report.render()


def test_a_forged_cosignature_on_an_earlier_checkpoint_fails_the_bundle(lab, release_manager,
                                                                        w1):
    # given: the latest is honestly cosigned; the lab pastes the latest's line onto the first
    bundle = cosigned(two_checkpoints(lab, release_manager), w1)
    bundle["checkpoints"][0]["cosignatures"] = list(bundle["checkpoints"][-1]["cosignatures"])

    report = verify(bundle, w1)

    assert not report.passed
    assert report.failure.startswith(f"checkpoint {bundle['checkpoints'][0]['size']}: ")
    assert "forged cosignature" in report.failure
