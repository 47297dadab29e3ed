"""The witness's add-checkpoint decisions, status by status (C2SP tlog-witness)."""

from __future__ import annotations

import base64
import threading

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from govflow.trust.cosignature import verify_cosignatures
from govflow.trust.note import Checkpoint, parse_verifier_key, sign_checkpoint, split_note
from govflow.witness import keyfile
from govflow.witness.protocol import Witness
from govflow.witness.state import Store
from tests.witness.support import FakeLog


@pytest.fixture
def log():
    log = FakeLog()
    log.append(*(f"event {i}" for i in range(5)))
    return log


@pytest.fixture
def witness(tmp_path, log):
    key = keyfile.generate("witness.example/w1")
    return Witness(key=key, logs=[parse_verifier_key(log.vkey)], store=Store(tmp_path / "w"),
                   clock=lambda: 1_700_000_000)


def cosigned_by(witness, note: str, line: str) -> bool:
    body, _ = split_note(note)
    valid, problems = verify_cosignatures(body, [line], [witness.key.cosigner])
    return len(valid) == 1 and not problems


def test_first_checkpoint_is_cosigned_with_a_timestamped_cosignature(witness, log):
    # when
    answer = witness.add_checkpoint(log.request(0))
    # then
    assert answer.status == 200
    assert answer.body.startswith("\u2014 witness.example/w1 ")
    assert answer.body.endswith("\n")
    assert cosigned_by(witness, log.checkpoint(), answer.body)
    blob = base64.b64decode(answer.body.split()[-1])
    assert int.from_bytes(blob[4:12], "big") == 1_700_000_000


def test_a_consistent_extension_is_cosigned_and_remembered(witness, log):
    # given
    assert witness.add_checkpoint(log.request(0)).status == 200
    log.append("event 5", "event 6")
    # when
    answer = witness.add_checkpoint(log.request(5))
    # then
    assert answer.status == 200
    assert cosigned_by(witness, log.checkpoint(), answer.body)
    assert witness.store.latest(log.origin).size == 7


def test_a_stale_old_size_gets_409_with_the_size_the_witness_knows(witness, log):
    # given
    witness.add_checkpoint(log.request(0))
    log.append("event 5")
    # when: the log claims the witness last saw 3
    answer = witness.add_checkpoint(log.request(3))
    # then
    assert (answer.status, answer.body, answer.content_type) == (409, "5\n", "text/x.tlog.size")


def test_a_rewrite_after_a_witnessed_checkpoint_is_refused(witness, log):
    # given: the witness cosigned 5 events
    witness.add_checkpoint(log.request(0))
    # when: the operator edits event 2, re-signs, and offers a bigger tree with some proof
    rewritten = FakeLog(key=log.key)
    rewritten.append("event 0", "event 1", "event 2 (edited)", "event 3", "event 4", "event 5")
    forged = rewritten.request(5)
    answer = witness.add_checkpoint(forged)
    # then
    assert answer.status == 422
    assert witness.store.latest(log.origin).size == 5
    [(status, reason, request)] = witness.store.evidence(log.origin)
    assert status == 422
    assert request == forged.decode()


def test_a_fork_at_the_same_size_gets_409(witness, log):
    # given
    witness.add_checkpoint(log.request(0))
    fork = FakeLog(key=log.key)
    fork.append("event 0", "event 1", "event 2", "event 3", "another event 4")
    # when
    answer = witness.add_checkpoint(fork.request(5))
    # then
    assert answer.status == 409
    assert answer.content_type == "text/x.tlog.size"
    assert witness.store.latest(log.origin).root == log.root()


def test_the_same_checkpoint_again_is_cosigned_again(witness, log):
    witness.add_checkpoint(log.request(0))
    assert witness.add_checkpoint(log.request(5)).status == 200


def test_a_checkpoint_signed_by_another_key_gets_403(witness, log):
    forged = log.checkpoint(key=Ed25519PrivateKey.generate())
    assert witness.add_checkpoint(log.request(0, note=forged)).status == 403


def test_an_unknown_origin_gets_404(witness):
    other = FakeLog(origin="elsewhere.example/log")
    other.append("x")
    assert witness.add_checkpoint(other.request(0)).status == 404


def test_old_size_above_the_checkpoint_size_gets_400(witness, log):
    assert witness.add_checkpoint(log.request(6, 5)).status == 400


@pytest.mark.parametrize("body", [
    b"", b"old 01\n\n", b"old 0\nnot base64!\n\n", b"old 0\n", b"\xff\xfe",
    b"old 0\n\nno checkpoint here\n",
    ("old 0\n" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n" * 64 + "\n").encode(),
])
def test_malformed_requests_get_400(witness, body):
    assert witness.add_checkpoint(body).status == 400


def test_a_proof_with_old_size_zero_gets_400(witness, log):
    body = log.request(0).replace(b"old 0\n", b"old 0\n" + base64.b64encode(b"\0" * 32) + b"\n")
    assert witness.add_checkpoint(body).status == 400


def test_racing_requests_never_roll_the_witness_back(witness, log):
    # given: a witness at 5, and two valid extensions (to 7 and to 9) from the same old size
    witness.add_checkpoint(log.request(0))
    log.append("e5", "e6", "e7", "e8")
    to_7, to_9 = log.request(5, 7), log.request(5, 9)
    results = {}

    def send(name, body):
        results[name] = witness.add_checkpoint(body).status

    # when
    threads = [threading.Thread(target=send, args=(n, b)) for n, b in (("7", to_7), ("9", to_9))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then: exactly one wins; the other finds the size moved (409); state is the winner's
    assert sorted(results.values()) == [200, 409]
    winner = 7 if results["7"] == 200 else 9
    assert witness.store.latest(log.origin).size == winner


def test_extension_lines_are_cosigned_as_received(witness, log):
    body = Checkpoint(log.origin, 5, log.root(), ("ext line",))
    note = sign_checkpoint(body, log.origin, log.key)
    answer = witness.add_checkpoint(log.request(0, note=note))
    assert answer.status == 200
    assert cosigned_by(witness, note, answer.body)
