"""The Merkle log: sequencing, checkpoints, proofs, and no forks under concurrency."""

from __future__ import annotations

import base64
import threading

import pytest
from django.db import connection

from govflow.audit import log
from govflow.audit.logkey import log_origin, log_signing_key
from govflow.audit.models import AuditEvent, Checkpoint, LogLeaf
from govflow.trust import merkle, note
from tests import factories

pytestmark = pytest.mark.django_db


def make_events(n: int) -> None:
    org = factories.organization()
    for _ in range(n):
        factories.person(org, "release_manager")


def test_checkpoint_covers_every_committed_event_and_is_signed():
    make_events(5)
    checkpoint = log.checkpoint_create()
    assert checkpoint.size == AuditEvent.objects.count()
    verifier = note.verifier_for(log_origin(), log_signing_key().public_key())
    parsed, _ = note.open_checkpoint(checkpoint.note, [verifier], origin=log_origin())
    leaves = [
        bytes.fromhex(h)
        for h in AuditEvent.objects.order_by("leaf__index").values_list("leaf_hash", flat=True)
    ]
    assert parsed.size == checkpoint.size
    assert parsed.root_hash == merkle.root_from_leaf_hashes(leaves) == bytes(checkpoint.root_hash)


def test_no_new_checkpoint_when_nothing_changed():
    make_events(2)
    first = log.checkpoint_create()
    again = log.checkpoint_create()
    assert again.pk == first.pk
    assert Checkpoint.objects.count() == 1


def test_leaf_hash_is_rfc9162_over_the_stored_canonical_json():
    make_events(1)
    event = AuditEvent.objects.first()
    assert event.leaf_hash == merkle.leaf_hash(event.canonical.encode()).hex()


def test_every_inclusion_and_consistency_proof_verifies():
    make_events(3)
    small = log.checkpoint_create()
    make_events(9)
    big = log.checkpoint_create()
    for leaf in LogLeaf.objects.select_related("event"):
        proof = log.inclusion_proof(leaf.index, big.size)
        assert merkle.verify_inclusion(
            bytes.fromhex(leaf.event.leaf_hash), leaf.index, big.size, proof, bytes(big.root_hash)
        )
    proof = log.consistency_proof(small.size, big.size)
    assert merkle.verify_consistency(
        small.size, big.size, proof, bytes(small.root_hash), bytes(big.root_hash)
    )


def test_proof_api_answers_with_verifiable_proofs(api, regulator):
    make_events(4)
    checkpoint = log.checkpoint_create()
    event = AuditEvent.objects.select_related("leaf").order_by("id")[2]
    client = api(regulator)
    body = client.get(f"/api/log/events/{event.pk}/inclusion").json()
    proof = [base64.b64decode(h) for h in body["hashes"]]
    assert merkle.verify_inclusion(
        bytes.fromhex(body["leaf_hash"]), body["index"], body["tree_size"], proof,
        bytes(checkpoint.root_hash),
    )
    bad = client.get("/api/log/consistency?first=0&second=2")
    assert bad.status_code == 400
    assert bad.json()["fields"][0]["path"] == "first"


def test_lab_sees_only_its_own_events(api, lab, release_manager, outsider):
    factories.release(lab, release_manager)
    log.checkpoint_create()
    own = api(release_manager).get("/api/log/events?page_size=500").json()["results"]
    other = api(outsider).get("/api/log/events?page_size=500").json()["results"]
    assert any(e["release_id"] for e in own)
    assert not any(e["release_id"] for e in other)


@pytest.mark.postgres
def test_concurrent_checkpointers_do_not_fork_the_log(live_db):
    # Two beat schedulers started by mistake run the checkpoint task at the same moment.
    make_events(20)
    barrier = threading.Barrier(2)
    results, failures = [], []

    def run():
        try:
            barrier.wait()
            results.append(log.checkpoint_create().size)
        except Exception as exc:  # noqa: BLE001 (collected and asserted below)
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert results == [AuditEvent.objects.count()] * 2
    assert Checkpoint.objects.count() == 1
    assert sorted(LogLeaf.objects.values_list("index", flat=True)) == list(
        range(AuditEvent.objects.count())
    )


@pytest.mark.postgres
def test_concurrent_writers_and_sequencer_leave_no_gaps(live_db):
    # Writers append while the sequencer integrates; every event ends up with exactly
    # one leaf and the indexes are 0..n-1.
    barrier = threading.Barrier(4)

    def writer():
        barrier.wait()
        make_events(10)
        connection.close()

    def sequencer():
        barrier.wait()
        for _ in range(5):
            log.log_integrate()
        connection.close()

    threads = [threading.Thread(target=writer) for _ in range(3)]
    threads.append(threading.Thread(target=sequencer))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    size = log.log_integrate()
    assert size == AuditEvent.objects.count()
    assert sorted(LogLeaf.objects.values_list("index", flat=True)) == list(range(size))
